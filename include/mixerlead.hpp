/**
 * @file mixerlead.hpp
 * @brief Header-only C++17 wrapper of the mixerlead C API (mixerlead.h).
 *
 * @code
 * mixerlead::Client client;                                  // reads MIXERLEAD_API_KEY
 * for (std::string_view piece : client.stream("Hi")) std::cout << piece << std::flush;
 * mixerlead::Response sources = client.request("GET", "/knowledge");   // sources.json
 * @endcode
 *
 * Handles are RAII types; failures throw mixerlead::Error (status(), status_code(),
 * retry_after(), request_id()). Every call takes optional RequestOptions (timeout, retries,
 * extra headers for that call only). Link with -lmixerlead.
 */
#ifndef MIXERLEAD_HPP
#define MIXERLEAD_HPP

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mixerlead.h"

namespace mixerlead {

/// A failure of the library: the C status, the HTTP status (0 if none), Retry-After and the
/// request id of the response behind it.
class Error : public std::runtime_error {
 public:
  /// An error with the C status, its message, the HTTP status (0: none), Retry-After in seconds
  /// (< 0: not given) and the response's request id.
  Error(ml_status status, std::string message, int status_code, double retry_after,
        std::optional<std::string> request_id = std::nullopt)
      : std::runtime_error(std::move(message)),
        status_(status),
        status_code_(status_code),
        retry_after_(retry_after),
        request_id_(std::move(request_id)) {}

  /// The C status (ML_ERR_…).
  ml_status status() const noexcept { return status_; }
  /// The HTTP status of a status error; 0 otherwise.
  int status_code() const noexcept { return status_code_; }
  /// Seconds the service asked to wait; std::nullopt when it did not say.
  std::optional<double> retry_after() const noexcept {
    return retry_after_ < 0 ? std::nullopt : std::optional<double>(retry_after_);
  }
  /// The request id of the response behind the failure (a status error's, or a stream's that
  /// broke); std::nullopt when there was none.
  const std::optional<std::string>& request_id() const noexcept { return request_id_; }

 private:
  ml_status status_;
  int status_code_;
  double retry_after_;
  std::optional<std::string> request_id_;
};

namespace detail {
inline std::optional<std::string> optional_string(const char* text) {
  return text ? std::optional<std::string>(text) : std::nullopt;
}

/// Throws this thread's last error when `status` is a failure.
inline ml_status check(ml_status status) {
  if (status < 0) {
    throw Error(status, ml_last_error_message(), ml_last_error_status_code(), ml_last_error_retry_after(),
                optional_string(ml_last_error_request_id()));
  }
  return status;
}

inline const char* c_str_or_null(const std::optional<std::string>& text) {
  return text ? text->c_str() : nullptr;
}
}  // namespace detail

/// Client options; unset fields fall back to the environment, then to defaults.
struct Options {
  /// The API key; unset: MIXERLEAD_API_KEY.
  std::optional<std::string> api_key;
  /// The service's base URL; unset: MIXERLEAD_BASE_URL, else the public service.
  std::optional<std::string> base_url;
  /// The project (sent as X-Project-Id); unset: MIXERLEAD_PROJECT_ID, else none.
  std::optional<std::string> project_id;
  /// Seconds until the response headers arrive; 0: the default.
  double timeout = 0;
  /// Seconds to connect; 0: the default.
  double connect_timeout = 0;
  /// Seconds a streamed reply may stay silent; 0: the default.
  double read_timeout = 0;
  /// The longest wait between retries, in seconds (a longer Retry-After fails at once); 0: the default.
  double max_retry_wait = 0;
  /// Retries after the first attempt; < 0: the default.
  int max_retries = -1;
  /// Allows a plain-http base URL other than loopback (the key then travels in clear).
  bool allow_insecure_http = false;
  /// A PEM bundle trusted besides the system's roots.
  std::optional<std::string> ca_file;
  /// A proxy URL, e.g. "http://proxy:3128"; unset: HTTPS_PROXY and the rest of the environment.
  std::optional<std::string> proxy;
  /// Requests per minute for the client's scope (key, base URL and project, process-wide), paced
  /// from the start; < 0: none (paced from the first 429 on); 0: no 429 gate and no pacing.
  double rate_limit = -1;
  /// Requests rate_limit lets through at once; < 0: one second's worth (at least 1).
  int rate_limit_burst = -1;
  /// A Redis URL (redis://, rediss://) sharing the scope's limit across a fleet; unset:
  /// MIXERLEAD_RATE_LIMIT_REDIS, else none.
  std::optional<std::string> rate_limit_redis;
  /// At most this many requests of the client in flight (the others wait); < 0: no cap.
  int max_concurrency = -1;
  /// A cassette file every exchange is appended to (for replay by the emulator); unset:
  /// MIXERLEAD_RECORD, else no recording.
  std::optional<std::string> record;
};

/// Options of one call, overriding the client's for that call only.
struct RequestOptions {
  /// Seconds until the response headers arrive; <= 0: the client's.
  double timeout = 0;
  /// Retries after the first attempt (0: one attempt); < 0: the client's.
  int max_retries = -1;
  /// Extra headers as (name, value) pairs; any but Authorization.
  std::vector<std::pair<std::string, std::string>> headers;
};

namespace detail {
/// RequestOptions as the C struct, with the header array it points to.
class CRequestOptions {
 public:
  explicit CRequestOptions(const RequestOptions& options) {
    ml_request_options_init(&c_);
    c_.timeout = options.timeout;
    c_.max_retries = options.max_retries;
    for (const auto& header : options.headers) {
      headers_.push_back(header.first.c_str());
      headers_.push_back(header.second.c_str());
    }
    c_.headers = headers_.empty() ? nullptr : headers_.data();
    c_.header_count = options.headers.size();
  }
  CRequestOptions(const CRequestOptions&) = delete;
  CRequestOptions& operator=(const CRequestOptions&) = delete;
  const ml_request_options* get() const noexcept { return &c_; }

 private:
  ml_request_options c_;
  std::vector<const char*> headers_;
};
}  // namespace detail

/// A chat message and its options.
struct ChatRequest {
  /// The message to send.
  std::string message;
  /// The model's id; unset: the service's default.
  std::optional<std::string> model;
  /// Continues this conversation; unset: a new one.
  std::optional<std::string> conversation_id;
};

/// One model of the service.
struct Model {
  /// The id to pass as ChatRequest::model.
  std::string id;
  /// Its display name.
  std::string name;
  /// What it is for (e.g. "chat").
  std::string task;
  /// Whether it needs a paid plan.
  bool requires_paid = false;
};

/// The models list, with the request id of its response.
class ModelList : public std::vector<Model> {
 public:
  /// An empty list.
  ModelList() = default;
  /// The `models`, and the request id of the response they came in.
  ModelList(std::vector<Model> models, std::optional<std::string> request_id)
      : std::vector<Model>(std::move(models)), request_id_(std::move(request_id)) {}
  /// The response's request id (X-Request-Id), if the service sent one.
  const std::optional<std::string>& request_id() const noexcept { return request_id_; }

 private:
  std::optional<std::string> request_id_;
};

/// The response of Client::request: its JSON text ("" for an empty body) and request id.
struct Response {
  /// The response body: JSON text, or "" when it was empty.
  std::string json;
  /// The response's request id (X-Request-Id), if the service sent one.
  std::optional<std::string> request_id;
};

/// A streamed reply: `for (std::string_view piece : stream)`. Destroying it mid-reply aborts
/// the request. A failure mid-stream throws from the iterator's increment. One thread at a time
/// iterates a stream (each piece is valid until the next increment); conversation_id() may be
/// called from any thread meanwhile.
class Stream {
 public:
  /// An input iterator over the pieces of the reply (see begin()).
  class iterator {
   public:
    /// A piece of the reply, valid until the next increment.
    using value_type = std::string_view;
    /// Required of iterators; unused.
    using difference_type = std::ptrdiff_t;
    /// One pass, forward.
    using iterator_category = std::input_iterator_tag;

    /// The end iterator.
    iterator() = default;
    /// Reads the first piece of `stream` (throws mixerlead::Error on a failure).
    explicit iterator(Stream* stream) : stream_(stream) { advance(); }
    /// The current piece, valid until the next increment.
    std::string_view operator*() const { return piece_; }
    /// Reads the next piece, waiting for it; throws mixerlead::Error if the stream fails.
    iterator& operator++() {
      advance();
      return *this;
    }
    /// Whether both are at the end (or at the same stream's current piece).
    bool operator==(const iterator& other) const { return stream_ == other.stream_; }
    /// The negation of operator==.
    bool operator!=(const iterator& other) const { return !(*this == other); }

   private:
    void advance() {
      const char* text = nullptr;
      size_t len = 0;
      if (detail::check(ml_stream_next(stream_->handle_.get(), &text, &len)) == ML_DONE) {
        stream_ = nullptr;
      } else {
        piece_ = std::string_view(text, len);
      }
    }
    Stream* stream_ = nullptr;
    std::string_view piece_;
  };

  /// Takes ownership of a stream from ml_chat_stream() (freed with ml_stream_free()).
  explicit Stream(ml_stream* handle) : handle_(handle, &ml_stream_free) {}

  /// Starts iterating: reads the first piece. A stream is iterated once.
  iterator begin() { return iterator(this); }
  /// The end of the reply.
  iterator end() { return iterator(); }

  /// The conversation id, once the service named it.
  std::optional<std::string> conversation_id() const {
    return detail::optional_string(ml_stream_conversation_id(handle_.get()));
  }

  /// The response's request id (X-Request-Id), if the service sent one.
  std::optional<std::string> request_id() const { return detail::optional_string(ml_stream_request_id(handle_.get())); }

  /// Reads the rest of the reply and returns it.
  std::string read() {
    std::string text;
    for (std::string_view piece : *this) text.append(piece);
    return text;
  }

  /// The C handle, still owned by this object.
  ml_stream* get() const noexcept { return handle_.get(); }

 private:
  std::unique_ptr<ml_stream, decltype(&ml_stream_free)> handle_;
};

/// A callback chat started with Client::start. Destroying it (or assigning another call over it)
/// cancels the call if it is still running and waits for its on_done — except inside one of the
/// library's callbacks, where it cancels and returns at once (on_done then runs later, with
/// ML_ERR_CANCELLED). The callbacks live until on_done has run, wherever the Call went.
///
/// The callbacks run on the library's threads, one at a time per call. The text given to
/// on_text is valid only during that callback (copy it to keep it). Inside the callbacks the
/// blocking calls (Client::stream, Client::models, iterating a Stream) throw
/// mixerlead::Error(ML_ERR_INVALID_ARGUMENT).
class Call {
 public:
  /// Receives each piece of the reply; returns false to cancel the call.
  using OnText = std::function<bool(std::string_view)>;
  /// Receives the end: the status (ML_OK or a failure), the conversation id, the error message
  /// ("" on success).
  using OnDone = std::function<void(ml_status, std::optional<std::string>, std::string)>;

  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  /// Takes `other`'s call; `other` is left with none.
  Call(Call&& other) noexcept : handle_(std::move(other.handle_)) {}
  /// Frees the running call first (see the class comment), then takes `other`'s.
  Call& operator=(Call&& other) noexcept {
    if (this != &other) {
      handle_.reset();
      handle_ = std::move(other.handle_);
    }
    return *this;
  }
  ~Call() = default;

  /// Cancels the call: no on_text runs after this returns (outside the callbacks), and on_done
  /// runs with ML_ERR_CANCELLED if it had not started.
  void cancel() { ml_call_cancel(handle_.get()); }

  /// The response's request id (X-Request-Id) once its headers arrived.
  std::optional<std::string> request_id() const { return detail::optional_string(ml_call_request_id(handle_.get())); }

 private:
  friend class Client;
  /// @cond INTERNAL
  // Owned by the C call once it started: done_trampoline deletes it after on_done, the last
  // callback, so it outlives the Call object if need be.
  struct Callbacks {
    OnText on_text;
    OnDone on_done;
  };
  /// @endcond
  static int text_trampoline(const char* text, size_t len, void* user_data) {
    auto* callbacks = static_cast<Callbacks*>(user_data);
    try {
      return callbacks->on_text(std::string_view(text, len)) ? 0 : 1;
    } catch (...) {
      return 1;  // an exception must not cross the C boundary: cancel instead
    }
  }
  static void done_trampoline(ml_status status, const char* conversation_id, void* user_data) {
    std::unique_ptr<Callbacks> callbacks(static_cast<Callbacks*>(user_data));
    try {
      callbacks->on_done(status, conversation_id ? std::optional<std::string>(conversation_id) : std::nullopt,
                         status == ML_OK ? std::string() : std::string(ml_last_error_message()));
    } catch (...) {
    }
  }
  Call() : handle_(nullptr, &ml_call_free) {}

  std::unique_ptr<ml_call, decltype(&ml_call_free)> handle_;
};

/// A client of the Workspace API; thread-safe.
class Client {
 public:
  /// A client from the environment and defaults.
  Client() : Client(Options{}) {}

  /// A client with `options` (unset ones from the environment, then defaults); throws
  /// mixerlead::Error(ML_ERR_CONFIG) on a bad option, naming it.
  explicit Client(const Options& options) : handle_(nullptr, &ml_client_free) {
    ml_client_options c;
    ml_client_options_init(&c);
    c.api_key = detail::c_str_or_null(options.api_key);
    c.base_url = detail::c_str_or_null(options.base_url);
    c.project_id = detail::c_str_or_null(options.project_id);
    c.timeout = options.timeout;
    c.connect_timeout = options.connect_timeout;
    c.read_timeout = options.read_timeout;
    c.max_retry_wait = options.max_retry_wait;
    c.max_retries = options.max_retries;
    c.allow_insecure_http = options.allow_insecure_http;
    c.ca_file = detail::c_str_or_null(options.ca_file);
    c.proxy = detail::c_str_or_null(options.proxy);
    c.rate_limit = options.rate_limit;
    c.rate_limit_burst = options.rate_limit_burst;
    c.rate_limit_redis = detail::c_str_or_null(options.rate_limit_redis);
    c.max_concurrency = options.max_concurrency;
    c.record = detail::c_str_or_null(options.record);
    ml_client* raw = nullptr;
    detail::check(ml_client_new(&c, &raw));
    handle_.reset(raw);
  }

  /// The models the service offers.
  ModelList models(const RequestOptions& options = {}) const {
    detail::CRequestOptions c_options(options);
    ml_model_list* raw = nullptr;
    detail::check(ml_models_list_with(handle_.get(), c_options.get(), &raw));
    std::unique_ptr<ml_model_list, decltype(&ml_model_list_free)> list(raw, &ml_model_list_free);
    std::vector<Model> models;
    for (size_t i = 0; i < ml_model_list_len(raw); ++i) {
      models.push_back({ml_model_list_id(raw, i), ml_model_list_name(raw, i), ml_model_list_task(raw, i),
                        ml_model_list_requires_paid(raw, i)});
    }
    return ModelList(std::move(models), detail::optional_string(ml_model_list_request_id(raw)));
  }

  /// Sends a message; returns once the response headers arrived. Blocks: not from inside a
  /// callback of a Call.
  Stream stream(const ChatRequest& request, const RequestOptions& options = {}) const {
    ml_chat_request c{request.message.c_str(), detail::c_str_or_null(request.model),
                      detail::c_str_or_null(request.conversation_id)};
    detail::CRequestOptions c_options(options);
    ml_stream* raw = nullptr;
    detail::check(ml_chat_stream_with(handle_.get(), &c, c_options.get(), &raw));
    return Stream(raw);
  }

  /// Sends `message` in a new conversation with the default model (see the overload above).
  Stream stream(const std::string& message, const RequestOptions& options = {}) const {
    return stream(ChatRequest{message, {}, {}}, options);
  }

  /// Starts a chat whose pieces go to `on_text` (on the library's threads; return false to
  /// cancel) and whose end goes to `on_done` (status, conversation id, error message).
  Call start(const ChatRequest& request, Call::OnText on_text, Call::OnDone on_done,
             const RequestOptions& options = {}) const {
    auto callbacks = std::make_unique<Call::Callbacks>(Call::Callbacks{std::move(on_text), std::move(on_done)});
    ml_chat_request c{request.message.c_str(), detail::c_str_or_null(request.model),
                      detail::c_str_or_null(request.conversation_id)};
    detail::CRequestOptions c_options(options);
    Call call;
    ml_call* raw = nullptr;
    ml_status status = ml_chat_start_with(handle_.get(), &c, c_options.get(), &Call::text_trampoline,
                                          &Call::done_trampoline, callbacks.get(), &raw);
    if (status == ML_OK) {
      callbacks.release();  // the call owns them now: done_trampoline deletes them
      call.handle_.reset(raw);
    }
    detail::check(status);
    return call;
  }

  /// Any other endpoint of the Workspace API (knowledge, skills, agents, artifacts): `method`
  /// ("GET", "POST", "PATCH", "DELETE"), `path` relative to the base URL ("/knowledge"), an
  /// optional JSON body (text; not valid JSON: Error(ML_ERR_INVALID_ARGUMENT), nothing sent).
  /// Retried like the typed calls: GET, PATCH and DELETE on transient failures, POST only on
  /// 429 and connections never made. Blocks: not from inside a callback of a Call.
  Response request(const std::string& method, const std::string& path,
                   const std::optional<std::string>& json_body = std::nullopt,
                   const RequestOptions& options = {}) const {
    detail::CRequestOptions c_options(options);
    ml_response* raw = nullptr;
    detail::check(ml_request(handle_.get(), method.c_str(), path.c_str(), detail::c_str_or_null(json_body),
                             c_options.get(), &raw));
    std::unique_ptr<ml_response, decltype(&ml_response_free)> response(raw, &ml_response_free);
    return Response{ml_response_json(raw), detail::optional_string(ml_response_request_id(raw))};
  }

  /// The C handle, still owned by this object.
  ml_client* get() const noexcept { return handle_.get(); }

 private:
  std::unique_ptr<ml_client, decltype(&ml_client_free)> handle_;
};

/// The library's version.
inline std::string version() { return ml_version(); }

}  // namespace mixerlead

#endif  // MIXERLEAD_HPP
