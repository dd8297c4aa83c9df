#pragma once

// A client of etcd's v3 API through its JSON gateway (POST /v3/...), over
// the libcurl Nexus already links: the few calls that leadership needs (a
// lease, its renewal, a key created only if absent, read, removed only by
// its holder). Debian ships no C++ etcd client; the gateway is etcd's own
// documented HTTP face of the same gRPC API (keys and values in base64,
// 64-bit integers as strings), so this stays a thin translation.
//
// Blocking: each call waits for an answer or `timeout`, trying the
// endpoints in turn, the one that answered last first. One client per
// thread (it keeps a curl handle).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nexus::runtime {

/// A key as etcd holds it.
struct etcd_key_value {
  std::string value;
  std::int64_t create_revision = 0; ///< The revision that created it: a leader's epoch.
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0; ///< 0: none.
};

/// What a campaign found: the key is this caller's (`won`), or another's.
struct etcd_campaign {
  bool won = false;
  etcd_key_value holder; ///< The key as it is now (this caller's, if won).
};

/// The calls that campaigning for leadership makes (actors/ha's
/// leadership): etcd_client's, or a test's etcd on a clock it moves.
class etcd_leases {
public:
  virtual ~etcd_leases() = default;

  /// A new lease of `ttl` (whole seconds, at least 1): its ID.
  virtual std::optional<std::int64_t> grant(std::chrono::seconds ttl, std::string& error) = 0;
  /// Renews `lease`: the seconds it has left now, 0 if it has expired (or
  /// was revoked). Nothing on failure to ask.
  virtual std::optional<std::int64_t> keep_alive(std::int64_t lease, std::string& error) = 0;
  /// Ends `lease` and removes the keys it holds.
  virtual bool revoke(std::int64_t lease, std::string& error) = 0;
  /// Creates `key` = `value` held by `lease`, in one transaction, if no one
  /// holds it; otherwise reads who does.
  virtual std::optional<etcd_campaign> campaign(const std::string& key, const std::string& value,
                                                std::int64_t lease, std::string& error) = 0;
};

class etcd_client : public etcd_leases {
public:
  /// `endpoints`: client URLs such as http://127.0.0.1:2379.
  etcd_client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
  ~etcd_client() override;
  etcd_client(const etcd_client&) = delete;
  etcd_client& operator=(const etcd_client&) = delete;

  std::optional<std::int64_t> grant(std::chrono::seconds ttl, std::string& error) override;
  std::optional<std::int64_t> keep_alive(std::int64_t lease, std::string& error) override;
  bool revoke(std::int64_t lease, std::string& error) override;
  std::optional<etcd_campaign> campaign(const std::string& key, const std::string& value,
                                        std::int64_t lease, std::string& error) override;
  /// Sets `key` to `value` (held by no lease).
  bool put(const std::string& key, const std::string& value, std::string& error);
  /// Every key that begins with `prefix`, with its value, in key order.
  std::optional<std::vector<std::pair<std::string, std::string>>> range(const std::string& prefix,
                                                                         std::string& error);

  /// `key` as it is, or a value-less result with create_revision 0 when it
  /// does not exist.
  std::optional<etcd_key_value> get(const std::string& key, std::string& error);
  /// Removes `key` if it is still the one created at `create_revision` (a
  /// leader stepping down removes its own key, never a successor's): true
  /// if it did.
  std::optional<bool> resign(const std::string& key, std::int64_t create_revision,
                             std::string& error);

private:
  /// POSTs `body` to `path` on an endpoint that answers: its JSON answer.
  std::optional<std::string> call(const std::string& path, const std::string& body,
                                  std::string& error);

  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Base64 (RFC 4648, padded) of `bytes`, and back: how the gateway carries
/// keys and values. decode_base64 gives nothing for malformed text.
std::string encode_base64(const std::string& bytes);
std::optional<std::string> decode_base64(const std::string& text);

} // namespace nexus::runtime
