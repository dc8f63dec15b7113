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

int main() {
  test_raii_range_for_and_models();
  test_errors_are_exceptions();
  test_lambda_callbacks();
  return harness_summary("c++");
}
