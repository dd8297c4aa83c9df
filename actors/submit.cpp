#include "actors/submit.hpp"

#include <deque>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/cluster.hpp"
#include "actors/engine.hpp"
#include "runtime/input_source.hpp"
#include "runtime/messages.hpp"
#include "runtime/system_config.hpp"

namespace nexus::actors {

namespace {

std::string_view describe(start_result r) {
  switch (r) {
    case start_result::started: return "started";
    case start_result::duplicate: return "duplicate: already in the log, not started again";
    case start_result::unknown_saga: return "refused: the workflow has no such saga";
    case start_result::bad_id: return "refused: a bad correlation ID";
    case start_result::bad_input: return "refused: its input is not a JSON object";
    case start_result::closed: return "refused: the coordinator is stopping";
    case start_result::refused: return "refused: wrong cluster token";
  }
  return "refused";
}

} // namespace

int submit_sagas(runtime::input_source& input, const submit_options& opts, std::string& error) {
  config::cluster_settings cluster;
  cluster.name = opts.cluster;
  cluster.tls = {opts.tls_certificate, opts.tls_key, opts.tls_ca};
  runtime::system_config cfg{1, cluster};
  caf::actor_system sys{cfg};
  auto gateway = connect_to(sys, opts.host, opts.port);
  if (!gateway) {
    error = "no coordinator at " + opts.host + ":" + std::to_string(opts.port) + ": "
            + sys.render(gateway.error());
    return 1;
  }
  caf::scoped_actor self{sys};
  self->monitor(*gateway);
  // Up to `window` submissions on their way at once: each waits for its
  // write on the coordinator, so one at a time would go at the disk's pace.
  constexpr std::size_t window = 256;
  using handle = decltype(self->request(*gateway, std::chrono::seconds(30), submit_atom::value,
                                        std::string{}, config::saga_request{}));
  std::deque<std::pair<std::string, handle>> on_the_way;
  std::int64_t waiting = 0; // started and not yet ended (an end may come before its start)
  std::uint64_t made = 0;
  int status = 0;
  bool lost = false;
  auto on_end = [&](const std::string& cid, const std::string& end) {
    opts.report(cid, end);
    --waiting;
  };
  // Takes the answer to the oldest submission on its way.
  auto settle_one = [&] {
    auto [cid, h] = std::move(on_the_way.front());
    on_the_way.pop_front();
    auto result = start_result::closed;
    bool answered = false;
    h.receive([&](std::uint8_t r) {
                result = static_cast<start_result>(r);
                answered = true;
              },
              [&](caf::error& err) {
                if (status == 0) {
                  error = "the coordinator did not take " + cid + ": " + sys.render(err);
                  status = 1;
                }
              });
    if (!answered)
      return;
    opts.report(cid, std::string{describe(result)});
    if (result == start_result::started)
      ++waiting;
    else if (result != start_result::duplicate && status == 0) {
      status = 2;
      error = "the coordinator refused " + cid + ": " + std::string{describe(result)};
    }
  };
  auto drain_ends = [&] {
    for (bool drained = opts.detach; !drained;)
      self->receive([&](done_atom, std::string& c, std::string& end) { on_end(c, end); },
                    [&](caf::down_msg&) { lost = true; },
                    caf::after(std::chrono::seconds(0)) >> [&] { drained = true; });
  };
  for (bool more = true; more && status == 0;) {
    config::saga_request req;
    std::string why;
    switch (input.next(req, why)) {
      case runtime::input_source::result::end:
        more = false;
        continue;
      case runtime::input_source::result::later:
        while (!on_the_way.empty() && status == 0) // a quiet pipe: settle what went out
          settle_one();
        continue;
      case runtime::input_source::result::bad_line:
      case runtime::input_source::result::failed:
        error = why;
        status = 2;
        continue;
      case runtime::input_source::result::request:
        break;
    }
    if (req.cancel) {
      error = "line " + std::to_string(req.line) + ": submit starts sagas; cancel with nexus on the "
              "coordinator's node";
      status = 2;
      continue;
    }
    if (req.correlation_id.empty())
      req.correlation_id = runtime::make_correlation_id(req.saga, ++made);
    auto cid = req.correlation_id;
    on_the_way.emplace_back(cid, self->request(*gateway, std::chrono::seconds(30),
                                               submit_atom::value, opts.token, std::move(req)));
    if (on_the_way.size() >= window)
      settle_one();
    drain_ends(); // ends that arrive meanwhile are reported as they come
  }
  while (!on_the_way.empty())
    settle_one();
  while (!opts.detach && waiting > 0 && !lost)
    self->receive([&](done_atom, std::string& cid, std::string& end) { on_end(cid, end); },
                  [&](caf::down_msg&) { lost = true; });
  if (lost && status == 0) {
    error = "lost the coordinator with " + std::to_string(waiting) + " sagas not ended (they "
            "resume when it starts again)";
    status = 1;
  }
  return status;
}

} // namespace nexus::actors
