#pragma once

#include <caf/local_actor.hpp>
#include <caf/message_id.hpp>
#include <caf/response_promise.hpp>

namespace nexus::actors {

/// The answer owed to a call that waits (in a full stage's queue, or for a
/// cluster node): its sender and message ID, 16 bytes where a
/// caf::response_promise holds 48, and a full stage holds one for every
/// saga waiting on it. promise() makes the response promise CAF answers
/// through (deliver, or delegate to a worker) when the answer is due: a
/// response to a request, a plain message to a plain send.
struct owed_answer {
  caf::strong_actor_ptr to;
  caf::message_id id;

  /// For the message `self` is handling now (which it then answers as
  /// `caf::delegated`).
  static owed_answer current(caf::local_actor* self) {
    return {self->current_sender(), self->current_message_id()};
  }

  caf::response_promise promise(caf::local_actor* self) && {
    return {self->ctrl(), std::move(to), {}, id};
  }
};

} // namespace nexus::actors
