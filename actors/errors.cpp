#include "actors/errors.hpp"

#include <caf/message.hpp>

namespace nexus::actors {

std::string to_string(errc x) {
  switch (x) {
    case errc::log_write_failed:
      return "log_write_failed";
    case errc::front_not_started:
      return "front_not_started";
  }
  return "unknown";
}

std::string describe(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return caf::to_string(err);
}

} // namespace nexus::actors
