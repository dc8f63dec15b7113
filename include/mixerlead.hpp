// mixerlead.hpp — header-only C++17 wrapper of the mixerlead C API (include/mixerlead.h).
//
//   mixerlead::Client client;                                  // reads MIXERLEAD_API_KEY
//   for (std::string_view piece : client.stream("Hi")) std::cout << piece << std::flush;
//
// Handles are RAII types; failures throw mixerlead::Error (status(), status_code(),
// retry_after()). Link with -lmixerlead.
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

/// A failure of the library: the C status, the HTTP status (0 if none) and Retry-After.
class Error : public std::runtime_error {
 public:
  Error(ml_status status, std::string message, int status_code, double retry_after)
      : std::runtime_error(std::move(message)),
        status_(status),
        status_code_(status_code),
        retry_after_(retry_after) {}

  /// The C status (ML_ERR_…).
  ml_status status() const noexcept { return status_; }
  /// The HTTP status of a status error; 0 otherwise.
  int status_code() const noexcept { return status_code_; }
  /// Seconds the service asked to wait; std::nullopt when it did not say.
  std::optional<double> retry_after() const noexcept {
    return retry_after_ < 0 ? std::nullopt : std::optional<double>(retry_after_);
  }

 private:
  ml_status status_;
  int status_code_;
  double retry_after_;
};

namespace detail {
/// Throws this thread's last error when `status` is a failure.
inline ml_status check(ml_status status) {
  if (status < 0) {
    throw Error(status, ml_last_error_message(), ml_last_error_status_code(), ml_last_error_retry_after());
  }
  return status;
}

inline const char* c_str_or_null(const std::optional<std::string>& text) {
  return text ? text->c_str() : nullptr;
}
}  // namespace detail

/// Client options; unset fields fall back to the environment, then to defaults.
struct Options {
  std::optional<std::string> api_key, base_url, project_id;
  double timeout = 0, connect_timeout = 0, read_timeout = 0, max_retry_wait = 0;  // seconds; 0: default
  int max_retries = -1;                                                           // < 0: default
  bool allow_insecure_http = false;
};

/// A chat message and its options.
struct ChatRequest {
  std::string message;
  std::optional<std::string> model;
  std::optional<std::string> conversation_id;
};

/// One model of the service.
struct Model {
  std::string id, name, task;
  bool requires_paid = false;
};

/// A streamed reply: `for (std::string_view piece : stream)`. Destroying it mid-reply aborts
/// the request. A failure mid-stream throws from the iterator's increment.
class Stream {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    explicit iterator(Stream* stream) : stream_(stream) { advance(); }
    std::string_view operator*() const { return piece_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    bool operator==(const iterator& other) const { return stream_ == other.stream_; }
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

  explicit Stream(ml_stream* handle) : handle_(handle, &ml_stream_free) {}

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

  /// The conversation id, once the service named it.
  std::optional<std::string> conversation_id() const {
    const char* id = ml_stream_conversation_id(handle_.get());
    return id ? std::optional<std::string>(id) : std::nullopt;
  }

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

/// A callback chat started with Client::start. Destroying it cancels the call if it is still
/// running and waits for its on_done.
class Call {
 public:
  using OnText = std::function<bool(std::string_view)>;  // return false to cancel
  using OnDone = std::function<void(ml_status, std::optional<std::string>, std::string)>;

  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  Call(Call&&) noexcept = default;
  Call& operator=(Call&&) noexcept = default;

  /// Cancels the call; on_done then runs with ML_ERR_CANCELLED (if it had not ended).
  void cancel() { ml_call_cancel(handle_.get()); }

 private:
  friend class Client;
  struct Callbacks {
    OnText on_text;
    OnDone on_done;
  };
  static int text_trampoline(const char* text, size_t len, void* user_data) {
    auto* callbacks = static_cast<Callbacks*>(user_data);
    try {
      return callbacks->on_text(std::string_view(text, len)) ? 0 : 1;
    } catch (...) {
      return 1;  // an exception must not cross the C boundary: cancel instead
    }
  }
  static void done_trampoline(ml_status status, const char* conversation_id, void* user_data) {
    auto* callbacks = static_cast<Callbacks*>(user_data);
    try {
      callbacks->on_done(status, conversation_id ? std::optional<std::string>(conversation_id) : std::nullopt,
                         status == ML_OK ? std::string() : std::string(ml_last_error_message()));
    } catch (...) {
    }
  }
  Call() : callbacks_(std::make_unique<Callbacks>()), handle_(nullptr, &ml_call_free) {}

  // Declared before handle_ so that the call (which waits for on_done) is freed first.
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<ml_call, decltype(&ml_call_free)> handle_;
};

/// A client of the Workspace API; thread-safe.
class Client {
 public:
  /// A client from the environment and defaults.
  Client() : Client(Options{}) {}

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
    ml_client* raw = nullptr;
    detail::check(ml_client_new(&c, &raw));
    handle_.reset(raw);
  }

  /// The models the service offers.
  std::vector<Model> models() const {
    ml_model_list* raw = nullptr;
    detail::check(ml_models_list(handle_.get(), &raw));
    std::unique_ptr<ml_model_list, decltype(&ml_model_list_free)> list(raw, &ml_model_list_free);
    std::vector<Model> models;
    for (size_t i = 0; i < ml_model_list_len(raw); ++i) {
      models.push_back({ml_model_list_id(raw, i), ml_model_list_name(raw, i), ml_model_list_task(raw, i),
                        ml_model_list_requires_paid(raw, i)});
    }
    return models;
  }

  /// Sends a message; returns once the response headers arrived.
  Stream stream(const ChatRequest& request) const {
    ml_chat_request c{request.message.c_str(), detail::c_str_or_null(request.model),
                      detail::c_str_or_null(request.conversation_id)};
    ml_stream* raw = nullptr;
    detail::check(ml_chat_stream(handle_.get(), &c, &raw));
    return Stream(raw);
  }

  Stream stream(const std::string& message) const { return stream(ChatRequest{message, {}, {}}); }

  /// Starts a chat whose pieces go to `on_text` (on the library's threads; return false to
  /// cancel) and whose end goes to `on_done` (status, conversation id, error message).
  Call start(const ChatRequest& request, Call::OnText on_text, Call::OnDone on_done) const {
    Call call;
    call.callbacks_->on_text = std::move(on_text);
    call.callbacks_->on_done = std::move(on_done);
    ml_chat_request c{request.message.c_str(), detail::c_str_or_null(request.model),
                      detail::c_str_or_null(request.conversation_id)};
    ml_call* raw = nullptr;
    detail::check(ml_chat_start(handle_.get(), &c, &Call::text_trampoline, &Call::done_trampoline,
                                call.callbacks_.get(), &raw));
    call.handle_.reset(raw);
    return call;
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
