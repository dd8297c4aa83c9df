#pragma once

#include <cstdint>
#include <string>

#include "config/input_line.hpp"
#include "config/workflow.hpp"

namespace nexus::runtime {

/// What became of a request to start a saga, from any source.
enum class start_result : std::uint8_t {
  started,      ///< Durable: running, or queued behind max_in_flight.
  duplicate,    ///< The correlation ID is already in the log (or running): not started twice.
  unknown_saga, ///< The workflow defines no saga of that name.
  bad_id,       ///< The correlation ID is not 1 to 128 of [A-Za-z0-9._:-].
  bad_input,    ///< The input is not a JSON object.
  closed,       ///< The run takes no new sagas (closed, or stopping).
  refused,      ///< A submission over the network without the cluster token.
};

/// What a request to cancel a saga did.
enum class cancel_result : std::uint8_t {
  cancelling,    ///< It starts nothing new, compensates, and will end `cancelled`.
  already_ended, ///< It had ended: nothing was changed.
  unknown,       ///< No saga with that correlation ID is in the log.
};

/// What can be wrong with a request to start a saga, whatever it came
/// from (an input line, the C++ API, `nexus submit`, an MCP tool).
enum class request_problem : std::uint8_t {
  none,
  unknown_saga, ///< The workflow defines no saga of that name.
  bad_id,       ///< The correlation ID is not 1 to 128 of [A-Za-z0-9._:-].
  bad_input,    ///< The input is not a JSON object.
};

/// The one check of a start request: the saga it names, its correlation
/// ID, its input, which it leaves in the form that is stored (a minified
/// object). Duplicates are saga_admission's and the log's to find. `why`
/// says what is wrong, naming the value, when it is not `none`.
request_problem check_start(const config::workflow& wf, config::saga_request& req,
                            std::string& why);

} // namespace nexus::runtime
