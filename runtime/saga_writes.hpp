#pragma once

#include "runtime/saga_machine.hpp"
#include "storage/append_request.hpp"

namespace nexus::runtime {

/// The append that makes `t`'s events durable, with the saga row for the
/// state `m` reached by them when they change its status (start,
/// compensation, end). `t` must hold at least one event.
storage::append_request make_append(const saga_machine& m, const transition& t);

} // namespace nexus::runtime
