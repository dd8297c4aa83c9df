#pragma once

#include <optional>

#include <caf/actor_system.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>

namespace nexus::actors {

/// A caf::scoped_actor for a call made on one of the program's threads (an
/// engine method, a tool call). CAF 0.17's scoped_actor leaves its system's
/// logger in the calling thread's local storage, a strong reference, and
/// ~actor_system waits until that logger is destroyed: a thread that called
/// once and lives on (an HTTP server's, scraping the metrics during `nexus
/// run`) would hold the engine's destructor for ever. This one clears the
/// reference again on a thread that had none before (CAF's own threads keep
/// theirs).
class caller {
public:
  explicit caller(caf::actor_system& sys)
    : foreign_(caf::logger::current_logger() == nullptr), self_(std::in_place, sys) {}
  ~caller() {
    self_.reset();
    if (foreign_)
      caf::logger::set_current_actor_system(nullptr);
  }
  caller(const caller&) = delete;
  caller& operator=(const caller&) = delete;

  caf::blocking_actor* operator->() const { return self_->ptr(); }
  caf::scoped_actor& operator*() { return *self_; }

private:
  bool foreign_;
  std::optional<caf::scoped_actor> self_;
};

} // namespace nexus::actors
