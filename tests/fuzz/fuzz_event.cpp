// libFuzzer target: the event, saga-row and breaker-row decoders on any
// bytes (what a damaged or hostile log could hold). A decoded event must
// encode and decode again to the same event.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/breaker_row.hpp"
#include "storage/event.hpp"
#include "storage/saga_row.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string error;
  nexus::storage::event e;
  if (nexus::storage::decode_event(text, e, error)) {
    std::string again;
    nexus::storage::encode_event(e, again);
    nexus::storage::event back;
    if (!nexus::storage::decode_event(again, back, error) || back.seq != e.seq || back.cid != e.cid
        || back.type != e.type || back.step != e.step || back.attempt != e.attempt)
      __builtin_trap();
  }
  nexus::storage::saga_row row;
  nexus::storage::decode_saga_row(text, row, error);
  nexus::storage::breaker_row breaker;
  nexus::storage::decode_breaker_row(text, breaker, error);
  return 0;
}
