#include "actors/input_reader.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "runtime/start_request.hpp"

namespace nexus::actors {

namespace {

using runtime::input_source;

/// Reads up to `n` requests; stops early rather than wait for more.
input_batch read(input_source& in, const config::workflow& wf, runtime::bad_input_policy policy,
                 std::uint32_t n) {
  input_batch b;
  while (b.requests.size() < n) {
    config::saga_request req;
    std::string error;
    auto r = in.next(req, error);
    if (r == input_source::result::request && !req.cancel && req.signal.empty()
        && runtime::check_start(wf, req, error) != runtime::request_problem::none) {
      error = "line " + std::to_string(req.line) + ": " + error;
      r = input_source::result::bad_line;
    }
    switch (r) {
      case input_source::result::request:
        b.requests.push_back(std::move(req));
        continue;
      case input_source::result::bad_line:
        if (policy == runtime::bad_input_policy::skip) {
          spdlog::warn("{}: skipped (--on-bad-input skip)", error);
          ++b.skipped;
          continue;
        }
        b.error = std::move(error);
        b.end = true;
        return b;
      case input_source::result::failed:
        b.error = std::move(error);
        b.end = true;
        return b;
      case input_source::result::end:
        b.end = true;
        return b;
      case input_source::result::later:
        return b;
    }
  }
  return b;
}

input_reader::behavior_type reader(input_reader::pointer, std::shared_ptr<input_source> in,
                                   const config::workflow* wf, runtime::bad_input_policy policy) {
  return {
    [=](read_atom, std::uint32_t n) { return read(*in, *wf, policy, n); },
  };
}

} // namespace

input_reader spawn_input_reader(caf::actor_system& sys, std::shared_ptr<input_source> input,
                                const config::workflow& wf, runtime::bad_input_policy policy) {
  return sys.spawn<caf::detached>(reader, std::move(input), &wf, policy);
}

} // namespace nexus::actors
