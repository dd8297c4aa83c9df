// libFuzzer target: the event-key and order-index decoders on any bytes.
// A key that decodes must be built again from its parts, byte for byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  std::string_view cid;
  std::uint64_t seq = 0;
  if (nexus::storage::decode_event_key(bytes, cid, seq)
      && nexus::storage::event_key(cid, seq) != bytes)
    __builtin_trap();
  nexus::storage::for_each_order_entry(bytes, [](std::string_view c, std::uint64_t s) {
    return nexus::storage::event_key(c, s).size() == c.size() + 9;
  });
  return 0;
}
