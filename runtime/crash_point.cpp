#include "runtime/crash_point.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

namespace nexus::runtime {

namespace {

struct armed_point {
  std::string name;          ///< Empty: no point is armed.
  long at = 1;               ///< Which passage kills.
  std::atomic<long> passed{0};

  armed_point() {
    const char* spec = std::getenv("NEXUS_CRASH_AT");
    if (spec == nullptr || *spec == '\0')
      return;
    name = spec;
    if (auto colon = name.find(':'); colon != std::string::npos) {
      at = std::max(1L, std::strtol(name.c_str() + colon + 1, nullptr, 10));
      name.resize(colon);
    }
  }
};

armed_point& armed() {
  static armed_point p;
  return p;
}

} // namespace

void crash_point(const char* name) {
  auto& p = armed();
  if (p.name.empty() || p.name != name)
    return;
  if (++p.passed == p.at)
    ::kill(::getpid(), SIGKILL);
}

} // namespace nexus::runtime
