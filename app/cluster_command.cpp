// `nexus cluster status --to HOST:PORT`: asks the coordinator given (its
// HTTP API's GET /v1/cluster, which a follower answers itself), then the
// leader it names, for the leader's epoch and position and the position
// each follower reported durable; prints one line a coordinator.
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "app/commands.hpp"
#include "config/json_tree.hpp"
#include "config/json_writer.hpp"
#include "runtime/curl_handles.hpp"

namespace nexus::app {

namespace {

/// GET http://`where`/v1/cluster: its JSON, or nothing with `error` set.
std::optional<config::json_node> cluster_of(const std::string& where, std::string& error) {
  runtime::curl_easy_handle curl{curl_easy_init()};
  std::string body;
  auto url = "http://" + where + "/v1/cluster";
  runtime::curl_header_list headers;
  if (auto* token = std::getenv("NEXUS_HTTP_TOKEN"); token != nullptr && token[0] != '\0')
    headers.reset(curl_slist_append(nullptr, (std::string{"Authorization: Bearer "} + token).c_str()));
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, runtime::curl_append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  auto rc = curl_easy_perform(curl.get());
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    error = "cannot reach " + url + ": " + curl_easy_strerror(rc);
    return std::nullopt;
  }
  if (status != 200) {
    error = url + " answered " + std::to_string(status) + ": " + body;
    return std::nullopt;
  }
  config::json_parse_error err;
  auto tree = config::parse_json_tree(body, err);
  if (!tree || tree->type != config::json_node::kind::object) {
    error = url + " answered no JSON object: " + body;
    return std::nullopt;
  }
  return tree;
}

std::string text(const config::json_node& n, const char* key) {
  auto m = n.find(key);
  return m != nullptr && m->value.type == config::json_node::kind::string ? m->value.text : "";
}

std::uint64_t number(const config::json_node& n, const char* key) {
  auto m = n.find(key);
  if (m == nullptr)
    return 0;
  if (m->value.type == config::json_node::kind::unsigned_integer)
    return m->value.unsigned_integer;
  return m->value.type == config::json_node::kind::integer && m->value.integer > 0
           ? static_cast<std::uint64_t>(m->value.integer)
           : 0;
}

struct row {
  std::string node, role;
  std::uint64_t epoch = 0, position = 0;
  std::optional<std::uint64_t> lag; ///< Behind the leader's last batch; none when unknown.
  bool catching_up = false;
};

} // namespace

int cluster_status(const cluster_status_args& args) {
  std::string host, error;
  std::uint16_t port = 0;
  if (!parse_endpoint("--to", args.to, host, port, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 2;
  }
  auto asked = cluster_of(args.to, error);
  if (!asked) {
    std::cerr << "nexus: " << error << '\n';
    return 1;
  }
  std::optional<config::json_node> leader;
  auto role = text(*asked, "role");
  if (role == "leader" || role == "single")
    leader = asked;
  else if (auto at = text(*asked, "leader_http"); !at.empty() && !(leader = cluster_of(at, error)))
    std::cerr << "nexus: warning: the leader " << text(*asked, "leader") << ": " << error << '\n';

  std::vector<row> rows;
  if (leader) {
    auto top = number(*leader, "position");
    rows.push_back({text(*leader, "node"), text(*leader, "role"), number(*leader, "epoch"), top,
                    0, false});
    if (auto f = leader->find("followers"))
      for (auto& item : f->value.items) {
        auto at = number(item, "position");
        auto busy = item.find("catching_up");
        rows.push_back({text(item, "node"), "follower", number(*leader, "epoch"), at,
                        top >= at ? std::optional<std::uint64_t>{top - at} : std::nullopt,
                        busy != nullptr && busy->value.boolean});
      }
  }
  // The coordinator asked, if the leader does not count it among its followers.
  auto me = text(*asked, "node");
  bool listed = false;
  for (auto& r : rows)
    listed = listed || r.node == me;
  if (!listed)
    rows.push_back({me, role, number(*asked, "epoch"), number(*asked, "position"), std::nullopt,
                    false});

  if (args.json) {
    std::string list = "[";
    for (auto& r : rows) {
      if (list.size() > 1)
        list += ',';
      config::json_object_writer w{list};
      w.field("node", r.node).field("role", r.role).field("epoch", r.epoch)
        .field("position", r.position).field("catching_up", r.catching_up);
      if (r.lag)
        w.field("lag", *r.lag);
      else
        w.raw_field("lag", "null");
      w.finish();
    }
    list += "]";
    std::string out;
    config::json_object_writer w{out};
    w.field("leader", leader ? text(*leader, "node") : std::string{}).raw_field("coordinators", list);
    w.finish();
    std::cout << out << '\n';
    return 0;
  }
  std::cout << "NODE\tROLE\tEPOCH\tPOSITION\tLAG\n";
  for (auto& r : rows)
    std::cout << r.node << '\t' << r.role << '\t' << r.epoch << '\t' << r.position << '\t'
              << (r.lag ? std::to_string(*r.lag) : "?") << (r.catching_up ? " (catching up)" : "")
              << '\n';
  if (!leader)
    std::cout << "no leader now: one takes over within about a lease\n";
  return 0;
}

} // namespace nexus::app
