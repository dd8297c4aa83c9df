#pragma once

#include <cstdint>
#include <string>

#include "runtime/saga_machine.hpp"
#include "storage/append_request.hpp"

namespace nexus::storage {
class event_log;
}

namespace nexus::runtime {

/// A signal for a saga: its name, data (raw JSON, "" for none) and the
/// sender's ID for deduplication ("" for none).
struct saga_signal {
  std::string cid;
  std::string name;
  std::string data;
  std::string id;
};

/// `s` as the arguments of the tool signal_saga (a JSON object), which
/// `nexus signal --to` and `nexus submit` have a coordinator run.
std::string signal_tool_arguments(const saga_signal& s);

/// For a saga that no actor holds (no process runs it, or this one cannot):
/// the append that stores `s` as a signal_received after the saga's last
/// event, set in `out` when the answer is `stored`. Otherwise `unknown`,
/// `ended` (with the status in `detail`), `duplicate` (its ID was received
/// before) or `failed` (the log could not be read; `detail` says why). The
/// saga's next run replays it as the live path would have recorded it; a
/// parked saga's row is unparked with it (and its timer cleared), so that
/// the next run resumes it.
signal_result plan_logged_signal(const storage::event_log& log, const saga_signal& s,
                                 std::int64_t now_us, storage::append_request& out,
                                 std::string& detail);

} // namespace nexus::runtime
