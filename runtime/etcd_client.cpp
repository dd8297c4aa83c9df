#include "runtime/etcd_client.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include "config/json_writer.hpp"
#include "runtime/curl_handles.hpp"

namespace nexus::runtime {

// -- base64: OpenSSL's, whose EVP_EncodeBlock and EVP_DecodeBlock do the work

std::string encode_base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> decode_base64(const std::string& text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::string out(3 * (text.size() / 4), '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(text.data()),
                           static_cast<int>(text.size()));
  if (n < 0)
    return std::nullopt;
  // EVP_DecodeBlock counts the padding's bytes as zeros: take them off.
  std::size_t pad = 0;
  for (auto i = text.size(); i > 0 && text[i - 1] == '=' && pad < 2; --i)
    ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

namespace {


/// A 64-bit integer the gateway writes as a string (proto3 JSON), or as a
/// number; 0 when left out (proto3 leaves out zeros).
std::int64_t int_field(simdjson::dom::element obj, const char* name) {
  simdjson::dom::element v;
  if (obj[name].get(v))
    return 0;
  if (std::int64_t i = 0; !v.get_int64().get(i))
    return i;
  std::string_view s;
  std::int64_t i = 0;
  if (!v.get_string().get(s))
    std::from_chars(s.data(), s.data() + s.size(), i);
  return i;
}

/// A boolean the gateway leaves out when false.
bool bool_field(simdjson::dom::element obj, const char* name) {
  bool b = false;
  return obj[name].get_bool().get(b) == simdjson::SUCCESS && b;
}

/// etcd's answer parsed, or why not (an error etcd gave, or malformed JSON).
std::optional<simdjson::dom::element> parse(simdjson::dom::parser& parser, const std::string& json,
                                            std::string& error) {
  simdjson::dom::element doc;
  if (auto err = parser.parse(json).get(doc)) {
    error = std::string{"etcd's answer is not JSON: "} + simdjson::error_message(err);
    return std::nullopt;
  }
  std::string_view message;
  if (!doc["error"].get_string().get(message)) {
    error = "etcd: " + std::string{message};
    return std::nullopt;
  }
  return doc;
}

/// A JSON object that `fill` writes the fields of.
template <class Fill>
std::string object(Fill fill) {
  std::string out;
  config::json_object_writer w{out};
  fill(w);
  w.finish();
  return out;
}

bool read_kv(simdjson::dom::element kv, etcd_key_value& out, std::string& error) {
  std::string_view value;
  if (!kv["value"].get_string().get(value)) {
    auto decoded = decode_base64(std::string{value});
    if (!decoded) {
      error = "etcd's answer holds a value that is not base64";
      return false;
    }
    out.value = std::move(*decoded);
  }
  out.create_revision = int_field(kv, "create_revision");
  out.mod_revision = int_field(kv, "mod_revision");
  out.lease = int_field(kv, "lease");
  return true;
}

} // namespace

struct etcd_client::impl {
  std::vector<std::string> endpoints;
  std::chrono::milliseconds timeout;
  std::size_t current = 0; ///< The endpoint that answered last.
  curl_easy_handle handle{curl_easy_init()};
  simdjson::dom::parser parser;

  /// POSTs and parses: etcd's answer, or why there is none (etcd's error too).
  std::optional<simdjson::dom::element> ask(etcd_client& c, const std::string& path,
                                            const std::string& body, std::string& error);
};

etcd_client::etcd_client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
  : impl_(std::make_unique<impl>()) {
  impl_->endpoints = std::move(endpoints);
  impl_->timeout = timeout;
}

etcd_client::~etcd_client() = default;

std::optional<std::string> etcd_client::call(const std::string& path, const std::string& body,
                                             std::string& error) {
  auto& d = *impl_;
  if (d.endpoints.empty() || !d.handle) {
    error = d.endpoints.empty() ? "no etcd endpoint" : "cannot make a curl handle";
    return std::nullopt;
  }
  std::string failures;
  for (std::size_t tried = 0; tried < d.endpoints.size(); ++tried) {
    auto& endpoint = d.endpoints[(d.current + tried) % d.endpoints.size()];
    auto* h = d.handle.get();
    curl_easy_reset(h);
    auto url = endpoint + path;
    std::string answer;
    curl_header_list headers{curl_slist_append(nullptr, "Content-Type: application/json")};
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(d.timeout.count()));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_append_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
    auto rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status < 500) {
      // Answered (an error of etcd's own included: it is the same from any
      // member). A 5xx is a member that cannot serve: try the next.
      d.current = (d.current + tried) % d.endpoints.size();
      return answer;
    }
    failures += (failures.empty() ? "" : "; ") + endpoint + ": "
                + (rc != CURLE_OK ? std::string{curl_easy_strerror(rc)}
                                  : "HTTP " + std::to_string(status));
  }
  error = "no etcd endpoint answered (" + failures + ")";
  return std::nullopt;
}

std::optional<simdjson::dom::element> etcd_client::impl::ask(etcd_client& c,
                                                           const std::string& path,
                                                           const std::string& body,
                                                           std::string& error) {
  auto answer = c.call(path, body, error);
  if (!answer)
    return std::nullopt;
  return parse(parser, *answer, error); // valid until the next parse
}

std::optional<std::int64_t> etcd_client::grant(std::chrono::seconds ttl, std::string& error) {
  auto body = object([&](config::json_object_writer& w) {
    w.field("TTL", static_cast<std::int64_t>(std::max<std::int64_t>(1, ttl.count())));
  });
  auto doc = impl_->ask(*this, "/v3/lease/grant", body, error);
  if (!doc)
    return std::nullopt;
  auto id = int_field(*doc, "ID");
  if (id == 0) {
    error = "etcd granted no lease";
    return std::nullopt;
  }
  return id;
}

std::optional<std::int64_t> etcd_client::keep_alive(std::int64_t lease, std::string& error) {
  auto body = object([&](config::json_object_writer& w) { w.field("ID", lease); });
  // A stream in gRPC; through the gateway, one renewal a request, answered
  // as {"result": ...}. An expired lease comes back with no TTL.
  auto doc = impl_->ask(*this, "/v3/lease/keepalive", body, error);
  if (!doc)
    return std::nullopt;
  simdjson::dom::element result;
  if ((*doc)["result"].get(result)) {
    error = "etcd's renewal answer has no result";
    return std::nullopt;
  }
  std::string_view message;
  if (!result["error"].get_string().get(message)) {
    error = "etcd: " + std::string{message};
    return std::nullopt;
  }
  return int_field(result, "TTL");
}

bool etcd_client::revoke(std::int64_t lease, std::string& error) {
  auto body = object([&](config::json_object_writer& w) { w.field("ID", lease); });
  return impl_->ask(*this, "/v3/lease/revoke", body, error).has_value();
}

std::optional<etcd_campaign> etcd_client::campaign(const std::string& key,
                                                   const std::string& value, std::int64_t lease,
                                                   std::string& error) {
  auto k = encode_base64(key);
  auto compare = object([&](config::json_object_writer& w) {
    w.field("key", k).field("target", "CREATE").field("create_revision", "0");
  });
  auto put = object([&](config::json_object_writer& w) {
    w.field("key", k).field("value", encode_base64(value)).field("lease", lease);
  });
  auto range = object([&](config::json_object_writer& w) { w.field("key", k); });
  auto body = object([&](config::json_object_writer& w) {
    w.raw_field("compare", "[" + compare + "]")
      .raw_field("success", "[{\"requestPut\":" + put + "}]")
      .raw_field("failure", "[{\"requestRange\":" + range + "}]");
  });
  auto doc = impl_->ask(*this, "/v3/kv/txn", body, error);
  if (!doc)
    return std::nullopt;
  etcd_campaign out;
  out.won = bool_field(*doc, "succeeded");
  if (out.won) {
    // The put's revision is the key's create_revision.
    simdjson::dom::element header;
    if ((*doc)["header"].get(header)) {
      error = "etcd's answer has no header";
      return std::nullopt;
    }
    out.holder.value = value;
    out.holder.create_revision = out.holder.mod_revision = int_field(header, "revision");
    out.holder.lease = lease;
    return out;
  }
  simdjson::dom::array responses;
  simdjson::dom::element kv;
  if ((*doc)["responses"].get_array().get(responses) || responses.size() != 1
      || responses.at(0)["response_range"]["kvs"].at(0).get(kv)) {
    // Held when compared, gone when read: a lost race either way.
    return out;
  }
  if (!read_kv(kv, out.holder, error))
    return std::nullopt;
  return out;
}

bool etcd_client::put(const std::string& key, const std::string& value, std::string& error) {
  auto body = object([&](config::json_object_writer& w) {
    w.field("key", encode_base64(key)).field("value", encode_base64(value));
  });
  return impl_->ask(*this, "/v3/kv/put", body, error).has_value();
}

std::optional<std::vector<std::pair<std::string, std::string>>> etcd_client::range(
  const std::string& prefix, std::string& error) {
  // Every key from the prefix up to, not including, the prefix with its
  // last byte one higher (etcd's range_end for a prefix).
  auto end = prefix;
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff)
    end.pop_back();
  if (!end.empty())
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  auto body = object([&](config::json_object_writer& w) {
    w.field("key", encode_base64(prefix)).field("range_end", encode_base64(end.empty() ? std::string(1, '\0') : end));
  });
  auto doc = impl_->ask(*this, "/v3/kv/range", body, error);
  if (!doc)
    return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::array kvs;
  if ((*doc)["kvs"].get_array().get(kvs))
    return out; // none
  for (auto kv : kvs) {
    std::string_view key;
    etcd_key_value v;
    if (kv["key"].get_string().get(key) || !read_kv(kv, v, error))
      return std::nullopt;
    auto decoded = decode_base64(std::string{key});
    if (!decoded) {
      error = "etcd's answer holds a key that is not base64";
      return std::nullopt;
    }
    out.emplace_back(std::move(*decoded), std::move(v.value));
  }
  return out;
}

std::optional<etcd_key_value> etcd_client::get(const std::string& key, std::string& error) {
  auto body = object([&](config::json_object_writer& w) { w.field("key", encode_base64(key)); });
  auto doc = impl_->ask(*this, "/v3/kv/range", body, error);
  if (!doc)
    return std::nullopt;
  etcd_key_value out;
  simdjson::dom::element kv;
  if ((*doc)["kvs"].at(0).get(kv))
    return out; // absent
  if (!read_kv(kv, out, error))
    return std::nullopt;
  return out;
}

std::optional<bool> etcd_client::resign(const std::string& key, std::int64_t create_revision,
                                        std::string& error) {
  auto k = encode_base64(key);
  auto compare = object([&](config::json_object_writer& w) {
    w.field("key", k).field("target", "CREATE").field("create_revision", create_revision);
  });
  auto del = object([&](config::json_object_writer& w) { w.field("key", k); });
  auto body = object([&](config::json_object_writer& w) {
    w.raw_field("compare", "[" + compare + "]")
      .raw_field("success", "[{\"requestDeleteRange\":" + del + "}]");
  });
  auto doc = impl_->ask(*this, "/v3/kv/txn", body, error);
  if (!doc)
    return std::nullopt;
  return bool_field(*doc, "succeeded");
}

} // namespace nexus::runtime
