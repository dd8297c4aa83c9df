// libFuzzer target: an input line on any bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/input_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nexus::config::saga_request req;
  std::string error;
  bool ok = nexus::config::parse_input_line(
    std::string_view{reinterpret_cast<const char*>(data), size}, req, error);
  if (ok == !error.empty()) // exactly one of: a request, a reason
    __builtin_trap();
  return 0;
}
