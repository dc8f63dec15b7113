// The C++ wrapper (include/mixerlead.hpp) against the emulator.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "harness.h"
#include "mixerlead.hpp"

static mixerlead::Client client_for(const char* script) {
  char url[512];
  scenario_url(url, sizeof url, script);
  mixerlead::Options options;
  options.api_key = "ml_test_cppsecret_1234";
  options.base_url = url;
  return mixerlead::Client(options);
}

static void test_raii_range_for_and_models() {
  mixerlead::Client client = client_for("");
  auto models = client.models();
  CHECK(!models.empty() && models[0].id == "ml-auto" && !models[0].requires_paid);
  std::string text;
  int pieces = 0;
  mixerlead::Stream stream = client.stream({"Hi from C++", "ml-fast", std::nullopt});
  for (std::string_view piece : stream) {
    text.append(piece);
    pieces++;
  }
  CHECK(pieces > 10);
  CHECK(text.find("Hi from C++") != std::string::npos);
  auto conversation = stream.conversation_id();
  CHECK(conversation.has_value());
  std::string again = client.stream({"more", std::nullopt, conversation}).read();
  CHECK(again.find("reply 2 in " + *conversation) != std::string::npos);
}

static void test_errors_are_exceptions() {
  mixerlead::Client client = client_for("fail=404");
  bool thrown = false;
  try {
    client.stream("x");
  } catch (const mixerlead::Error& e) {
    thrown = true;
    CHECK(e.status() == ML_ERR_STATUS);
    CHECK(e.status_code() == 404);
    CHECK(std::string(e.what()).find("scripted failure 404") != std::string::npos);
    CHECK(!e.retry_after().has_value());
  }
  CHECK(thrown);
  thrown = false;
  try {
    for (std::string_view piece : client_for("disconnect_after=2").stream("x")) (void)piece;
  } catch (const mixerlead::Error& e) {
    thrown = e.status() == ML_ERR_STREAM;
  }
  CHECK(thrown);
  thrown = false;
  try {
    mixerlead::Options options;
    options.api_key = "ml_test_x";
    options.base_url = "http://example.com/api";
    mixerlead::Client insecure(options);
  } catch (const mixerlead::Error& e) {
    thrown = e.status() == ML_ERR_CONFIG;
  }
  CHECK(thrown);
}

// The traffic-control options reach the core (which checks them; a zero cap is refused).
static void test_traffic_control_options() {
  char url[512];
  scenario_url(url, sizeof url, "id=cpptraffic");
  mixerlead::Options options;
  options.api_key = "ml_test_cppsecret_1234";
  options.base_url = url;
  options.rate_limit = 6000;
  options.rate_limit_burst = 10;
  options.max_concurrency = 2;
  bool listed = false;
  try {
    listed = !mixerlead::Client(options).models().empty();
  } catch (const mixerlead::Error& e) {
    fprintf(stderr, "test_traffic_control_options: %s\n", e.what());
  }
  CHECK(listed);
  options.max_concurrency = 0;
  bool thrown = false;
  try {
    mixerlead::Client refused(options);
  } catch (const mixerlead::Error& e) {
    std::string message = e.what();
    thrown = e.status() == ML_ERR_CONFIG && message.find("max_concurrency") != std::string::npos &&
             message.find("unknown client option") == std::string::npos;
  }
  CHECK(thrown);
}

static void test_lambda_callbacks() {
  mixerlead::Client client = client_for("pieces=100");
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  ml_status status = ML_ERR_INTERNAL;
  std::string text, conversation;
  {
    mixerlead::Call call = client.start(
        {"lambda", std::nullopt, std::nullopt},
        [&](std::string_view piece) {
          std::lock_guard<std::mutex> lock(mutex);
          text.append(piece);
          return true;
        },
        [&](ml_status s, std::optional<std::string> id, std::string) {
          std::lock_guard<std::mutex> lock(mutex);
          status = s;
          conversation = id.value_or("");
          done = true;
          cv.notify_all();
        });
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; });
  }
  CHECK(done && status == ML_OK);
  CHECK(text.rfind("w0 w1 ", 0) == 0);
  CHECK(conversation.rfind("conv_", 0) == 0);

  std::atomic<int> pieces{0};
  std::atomic<int> final_status{1};
  {
    mixerlead::Call call = client_for("id=cppcancel;pieces=1000;delay_ms=10")
                               .start({"x", std::nullopt, std::nullopt},
                                      [&](std::string_view) { return ++pieces < 2; },
                                      [&](ml_status s, std::optional<std::string>, std::string) { final_status = s; });
    double deadline = now_seconds() + 10 * time_scale();
    while (final_status == 1 && now_seconds() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }  // the destructor frees the call (after on_done ran)
  CHECK(pieces == 2);
  CHECK(final_status == ML_ERR_CANCELLED);
  CHECK(wait_disconnects("cppcancel", 1, 1.0) == 1);
}

// Issue #15, item 1: assigning a new call over a running one frees the old call before its
// callbacks (the old call's on_done runs on them). Under ASan the old order was a
// heap-use-after-free in done_trampoline.
static void test_move_assignment_frees_the_old_call_first() {
  harness_bound("test_move_assignment_frees_the_old_call_first", 30);
  mixerlead::Client slow = client_for("pieces=1000;delay_ms=5");
  mixerlead::Client fast = client_for("pieces=20");
  std::atomic<int> first_pieces{0}, first_done{0}, second_done{0};
  std::atomic<int> first_status{1}, second_status{1};
  {
    mixerlead::Call call = slow.start(
        {"slow", std::nullopt, std::nullopt}, [&](std::string_view) { return ++first_pieces > 0; },
        [&](ml_status s, std::optional<std::string>, std::string) {
          first_status = s;
          ++first_done;
        });
    double deadline = now_seconds() + 10 * time_scale();
    while (first_pieces == 0 && now_seconds() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    call = fast.start(
        {"fast", std::nullopt, std::nullopt}, [&](std::string_view) { return true; },
        [&](ml_status s, std::optional<std::string>, std::string) {
          second_status = s;
          ++second_done;
        });
    CHECK(first_done == 1);  // the old call was cancelled and ended during the assignment
    CHECK(first_status == ML_ERR_CANCELLED);
    mixerlead::Call& same = call;
    call = std::move(same);  // self-assignment changes nothing
    deadline = now_seconds() + 10 * time_scale();
    while (second_done == 0 && now_seconds() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    mixerlead::Call moved(std::move(call));
  }
  CHECK(first_done == 1 && second_done == 1);
  CHECK(second_status == ML_OK);
  harness_unbound();
}

// Destroying a Call from inside its own callback does not wait for itself (it used to hang):
// the call is cancelled, and its callbacks live until its on_done has run.
static void test_call_destroyed_inside_its_callback() {
  harness_bound("test_call_destroyed_inside_its_callback", 30);
  mixerlead::Client client = client_for("pieces=1000;delay_ms=5");
  std::mutex mutex;
  std::optional<mixerlead::Call> call;
  std::atomic<int> pieces{0}, done{0};
  std::atomic<int> status{1};
  {
    std::lock_guard<std::mutex> lock(mutex);
    call.emplace(client.start(
        {"x", std::nullopt, std::nullopt},
        [&](std::string_view) {
          std::lock_guard<std::mutex> lock(mutex);
          ++pieces;
          call.reset();  // from its own on_text
          return true;
        },
        [&](ml_status s, std::optional<std::string>, std::string) {
          status = s;
          ++done;
        }));
  }
  double deadline = now_seconds() + 10 * time_scale();
  while (done == 0 && now_seconds() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(pieces == 1 && done == 1);
  CHECK(status == ML_ERR_CANCELLED);
  harness_unbound();
}

static bool starts_with(const std::optional<std::string>& text, const std::string& prefix) {
  return text && text->rfind(prefix, 0) == 0;
}

// Per-request options on every call, request ids on lists, streams, calls and errors.
static void test_request_options_and_metadata() {
  harness_bound("test_request_options_and_metadata", 30);
  mixerlead::Client client = client_for("id=cppopt");
  mixerlead::RequestOptions options;
  options.headers = {{"X-Trace", "cpp-1"}};
  mixerlead::ModelList models = client.models(options);
  CHECK(!models.empty() && starts_with(models.request_id(), "req_"));
  CHECK(emulator_saw_header("cppopt", "x-trace", "cpp-1"));
  options.headers = {{"X-Trace", "cpp-2"}, {"X-Other", "o"}};
  mixerlead::Stream stream = client.stream("metadata", options);
  CHECK(starts_with(stream.request_id(), "req_") && stream.request_id() != models.request_id());
  CHECK(stream.read().find("metadata") != std::string::npos);
  CHECK(emulator_saw_header("cppopt", "x-trace", "cpp-2") && emulator_saw_header("cppopt", "x-other", "o"));
  std::atomic<int> done{0};
  options.headers = {{"X-Trace", "cpp-3"}};
  {
    mixerlead::Call call = client.start(
        {"pushed", std::nullopt, std::nullopt}, [](std::string_view) { return true; },
        [&](ml_status, std::optional<std::string>, std::string) { ++done; }, options);
    double deadline = now_seconds() + 10 * time_scale();
    while (done == 0 && now_seconds() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK(starts_with(call.request_id(), "req_"));
  }
  CHECK(done == 1 && emulator_saw_header("cppopt", "x-trace", "cpp-3"));

  // max_retries = 0 for one call; the client's retries for the others.
  mixerlead::Client failing = client_for("id=cppretry;fail=503;retry_after=0.01");
  mixerlead::RequestOptions once;
  once.max_retries = 0;
  bool thrown = false;
  try {
    failing.models(once);
  } catch (const mixerlead::Error& e) {
    thrown = e.status() == ML_ERR_STATUS && e.status_code() == 503 && starts_with(e.request_id(), "req_");
  }
  CHECK(thrown && emulator_stat("cppretry", "requests") == 1);
  thrown = false;
  try {
    failing.models();
  } catch (const mixerlead::Error& e) {
    thrown = e.status_code() == 503;
  }
  CHECK(thrown && emulator_stat("cppretry", "requests") == 4);
  // A bad option names itself.
  mixerlead::RequestOptions bad;
  bad.headers = {{"Authorization", "Bearer ml_x"}};
  thrown = false;
  try {
    client.stream("x", bad);
  } catch (const mixerlead::Error& e) {
    thrown = e.status() == ML_ERR_CONFIG && std::string(e.what()).find("Authorization") != std::string::npos &&
             !e.request_id();
  }
  CHECK(thrown);
  harness_unbound();
}

// The rest of the Workspace API through Client::request.
static void test_generic_request() {
  harness_bound("test_generic_request", 30);
  char url[512];
  scenario_url(url, sizeof url, "id=cppreq");
  mixerlead::Options options;
  options.api_key = "ml_test_cpp_workspace_" + std::to_string(getpid());
  options.base_url = url;
  mixerlead::Client client(options);
  mixerlead::Response added = client.request("POST", "/knowledge", R"({"text": "C++ notes", "name": "cpp"})");
  CHECK(added.json.find("\"status\":\"indexing\"") != std::string::npos && starts_with(added.request_id, "req_"));
  mixerlead::Response sources = client.request("GET", "/knowledge");
  CHECK(sources.json.find("\"cpp\"") != std::string::npos);
  bool thrown = false;
  try {
    client.request("POST", "/knowledge", std::string(R"({"text": "C++ notes"})"));
  } catch (const mixerlead::Error& e) {
    thrown = e.status() == ML_ERR_STATUS && e.status_code() == 409 &&
             std::string(e.what()).find("already exists") != std::string::npos && starts_with(e.request_id(), "req_");
  }
  CHECK(thrown);
  thrown = false;
  try {
    client.request("POST", "/knowledge", "{not json");
  } catch (const mixerlead::Error& e) {
    thrown = e.status() == ML_ERR_INVALID_ARGUMENT;
  }
  CHECK(thrown);
  mixerlead::RequestOptions traced;
  traced.headers = {{"X-Trace", "cpp-request"}};
  mixerlead::Response output =
      client.request("POST", "/skills/exec", R"({"skillId": "summarize", "vars": {"text": "C++"}})", traced);
  CHECK(output.json.find("# Summarize") != std::string::npos);
  CHECK(emulator_saw_header("cppreq", "x-trace", "cpp-request"));
  CHECK(emulator_stat("cppreq", "requests") == 4);  // the bad JSON was never sent
  harness_unbound();
}

// A request that cannot be sent throws from start(); no callback ever runs.
static void test_start_checks_the_request_first() {
  mixerlead::Client client = client_for("id=cppstart");
  std::atomic<int> callbacks{0};
  for (const char* message : {"", "   "}) {
    bool thrown = false;
    try {
      mixerlead::Call call = client.start(
          {message, std::nullopt, std::nullopt}, [&](std::string_view) { return ++callbacks > 0; },
          [&](ml_status, std::optional<std::string>, std::string) { ++callbacks; });
    } catch (const mixerlead::Error& e) {
      thrown = e.status() == ML_ERR_INVALID_ARGUMENT && std::string(e.what()).find("message") != std::string::npos;
    }
    CHECK(thrown);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(callbacks == 0 && emulator_stat("cppstart", "requests") <= 0);
}

int main() {
  harness_suite = "c++";
  RUN(test_raii_range_for_and_models);
  RUN(test_errors_are_exceptions);
  RUN(test_traffic_control_options);
  RUN(test_lambda_callbacks);
  RUN(test_move_assignment_frees_the_old_call_first);
  RUN(test_call_destroyed_inside_its_callback);
  RUN(test_request_options_and_metadata);
  RUN(test_generic_request);
  RUN(test_start_checks_the_request_first);
  return harness_summary("c++");
}
