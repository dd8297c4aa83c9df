// libFuzzer target: the workflow loader on any bytes. It must answer with a
// workflow or errors, never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/workflow_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = nexus::config::parse_workflow(
    std::string_view{reinterpret_cast<const char*>(data), size}, "fuzz.json");
  // Every refusal says something.
  for (auto& e : r.errors)
    if (e.to_string().empty())
      __builtin_trap();
  if (r.ok() == r.errors.empty())
    return 0;
  __builtin_trap();
}
