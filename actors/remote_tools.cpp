#include "actors/remote_tools.hpp"

#include "actors/caller.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/cluster/transport.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"

namespace nexus::actors {

struct remote_tools::impl {
  std::string where;
  std::string token;
  std::unique_ptr<actors::system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor gateway;
};

remote_tools::remote_tools(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

remote_tools::~remote_tools() {
  if (impl_) {
    impl_->gateway = nullptr;
    impl_->sys.reset();
  }
}

std::unique_ptr<remote_tools> remote_tools::connect(const submit_options& opts,
                                                    std::string& error) {
  auto d = std::make_unique<impl>();
  config::cluster_settings cluster;
  cluster.name = opts.cluster;
  cluster.tls = {opts.tls_certificate, opts.tls_key, opts.tls_ca};
  d->cfg = std::make_unique<actors::system_config>(1, cluster);
  d->sys = std::make_unique<caf::actor_system>(*d->cfg);
  d->token = opts.token;
  // Of a replicated cluster's coordinators, the leader takes the connection.
  std::string why;
  auto found = connect_to_first(*d->sys, opts.coordinators, 0, why);
  if (!found) {
    error = "no coordinator at " + why;
    return nullptr;
  }
  d->where = endpoint_name(opts.coordinators[found->first]);
  d->gateway = std::move(found->second);
  return std::unique_ptr<remote_tools>{new remote_tools{std::move(d)}};
}

std::pair<bool, std::string> remote_tools::call(const std::string& tool,
                                                const std::string& arguments, int timeout_s) {
  std::pair<bool, std::string> answer{true, {}};
  caller self{*impl_->sys};
  self->request(impl_->gateway, std::chrono::seconds(timeout_s), query_atom::value, impl_->token,
                tool, arguments)
    .receive(
      [&](bool is_error, std::string& result) { answer = {is_error, std::move(result)}; },
      [&](caf::error& err) {
        answer.second = "the coordinator at " + impl_->where
                        + " did not answer: " + impl_->sys->render(err);
      });
  return answer;
}

} // namespace nexus::actors
