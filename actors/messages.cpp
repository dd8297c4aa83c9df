#include "actors/messages.hpp"
#include "actors/ha/replication.hpp"

#include <caf/actor_system_config.hpp>

namespace nexus {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<step_call>("nexus.step_call");
  cfg.add_message_type<step_result>("nexus.step_result");
  cfg.add_message_type<join_request>("nexus.join_request");
  cfg.add_message_type<shipped_definition>("nexus.shipped_definition");
  cfg.add_message_type<call_batch>("nexus.call_batch");
  cfg.add_message_type<result_batch>("nexus.result_batch");
  cfg.add_message_type<config::saga_request>("nexus.saga_request");
  cfg.add_message_type<storage::replicated_batch>("nexus.replicated_batch");
}

} // namespace nexus
