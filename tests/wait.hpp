// Waiting for what a test is waiting for (a file, a line in a log), never
// for a fixed time: a bound only keeps a broken run from blocking the suite.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>

namespace sinapsis::test {

// Polls `ready` every 20 ms until it holds or `seconds` have passed.
inline bool wait_for(const std::function<bool()>& ready, double seconds) {
  for (int i = 0; i < int(seconds * 50); ++i) {
    if (ready()) return true;
    ::usleep(20000);
  }
  return ready();
}

inline bool wait_for_file(const std::string& path, double seconds) {
  return wait_for([&] { return std::filesystem::exists(path); }, seconds);
}

}  // namespace sinapsis::test
