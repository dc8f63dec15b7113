// Streams a reply with a range-for, then with a lambda callback.
// Build: c++ -std=c++17 examples/cpp/chat.cpp $(pkg-config --cflags --libs mixerlead) -o chat
// Run:   MIXERLEAD_API_KEY=… ./chat "Hi"
#include <chrono>
#include <future>
#include <iostream>

#include "mixerlead.hpp"

int main(int argc, char** argv) {
  try {
    mixerlead::Client client;  // MIXERLEAD_API_KEY, MIXERLEAD_BASE_URL, …
    std::string message = argc > 1 ? argv[1] : "Hi";
    auto stream = client.stream(message);
    for (std::string_view piece : stream) std::cout << piece << std::flush;
    std::cout << "\n";

    std::promise<void> finished;
    auto call = client.start(
        {"And once more", std::nullopt, stream.conversation_id()},
        [](std::string_view piece) {
          std::cout << piece << std::flush;
          return true;  // false cancels
        },
        [&](ml_status status, std::optional<std::string>, std::string error) {
          if (status != ML_OK) std::cerr << "\nfailed: " << error << "\n";
          finished.set_value();
        });
    finished.get_future().wait();
    std::cout << "\n";
  } catch (const mixerlead::Error& e) {
    std::cerr << "mixerlead: " << e.what() << " (HTTP " << e.status_code() << ")\n";
    return 1;
  }
}
