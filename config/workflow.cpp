#include "config/workflow.hpp"

#include <algorithm>

namespace nexus::config {

bool retry_policy::retryable(error_kind k) const {
  return std::find(non_retryable.begin(), non_retryable.end(), k) == non_retryable.end();
}

int saga_spec::find_step(const std::string& step) const {
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].name == step)
      return static_cast<int>(i);
  return -1;
}

void saga_spec::index_groups() {
  group_of.assign(steps.size(), 0);
  for (std::uint32_t g = 0; g < groups.size(); ++g)
    for (std::uint32_t i = 0; i < groups[g].count; ++i)
      group_of[groups[g].first + i] = g;
}

const saga_spec* workflow::find_saga(const std::string& saga) const {
  auto i = sagas.find(saga);
  return i == sagas.end() ? nullptr : &i->second;
}

std::string_view to_string(durability d) {
  switch (d) {
    case durability::sync:
      return "sync";
    case durability::async:
      return "async";
    case durability::none:
      return "none";
  }
  return "sync";
}

} // namespace nexus::config

namespace nexus::config {

std::string_view to_string(action_kind k) {
  switch (k) {
    case action_kind::simulate:
      return "simulate";
    case action_kind::exec:
      return "exec";
    case action_kind::http:
      return "http";
    case action_kind::handler:
      return "handler";
    case action_kind::sleep:
      return "sleep";
    case action_kind::wait:
      return "wait";
  }
  return "simulate";
}

} // namespace nexus::config
