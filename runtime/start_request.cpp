#include "runtime/start_request.hpp"

#include "config/json_value.hpp"
#include "storage/correlation_id.hpp"

namespace nexus::runtime {

request_problem check_start(const config::workflow& wf, config::saga_request& req,
                            std::string& why) {
  if (wf.find_saga(req.saga) == nullptr) {
    why = "input names saga \"" + req.saga + "\", which the workflow does not define";
    return request_problem::unknown_saga;
  }
  if (!storage::valid_correlation_id(req.correlation_id)) {
    why = storage::correlation_id_problem(req.correlation_id);
    return request_problem::bad_id;
  }
  if (!req.input_compact) {
    std::string compact;
    if (!config::compact_json(req.input, compact, why) || compact.front() != '{') {
      why = why.empty() ? "input: expected a JSON object" : "input: " + why;
      return request_problem::bad_input;
    }
    req.input = std::move(compact);
    req.input_compact = true;
  }
  return request_problem::none;
}

} // namespace nexus::runtime
