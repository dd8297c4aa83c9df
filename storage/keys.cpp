#include "storage/keys.hpp"

#include "storage/correlation_id.hpp"

namespace nexus::storage {

std::string encode_u64(std::uint64_t x) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(x & 0xFF);
    x >>= 8;
  }
  return out;
}

bool decode_u64(std::string_view bytes, std::uint64_t& x) {
  if (bytes.size() != 8)
    return false;
  x = 0;
  for (char c : bytes)
    x = (x << 8) | static_cast<unsigned char>(c);
  return true;
}

std::string timer_key(std::int64_t wake_us, std::string_view cid) {
  auto out = encode_u64(static_cast<std::uint64_t>(wake_us < 0 ? 0 : wake_us));
  out.append(cid);
  return out;
}

bool decode_timer_key(std::string_view key, std::int64_t& wake_us, std::string_view& cid) {
  std::uint64_t at = 0;
  if (key.size() <= 8 || !decode_u64(key.substr(0, 8), at))
    return false;
  wake_us = static_cast<std::int64_t>(at);
  cid = key.substr(8);
  return true;
}

std::string event_prefix(std::string_view cid) {
  std::string out;
  out.reserve(cid.size() + 9);
  out.append(cid);
  out.push_back('\0');
  return out;
}

std::string event_key(std::string_view cid, std::uint64_t seq) {
  auto out = event_prefix(cid);
  out += encode_u64(seq);
  return out;
}

void append_order_entry(std::string& value, std::string_view cid, std::uint64_t seq) {
  value.push_back(static_cast<char>(cid.size()));
  value.append(cid);
  value += encode_u64(seq);
}

bool for_each_order_entry(std::string_view value,
                          const std::function<bool(std::string_view, std::uint64_t)>& visit) {
  while (!value.empty()) {
    auto n = static_cast<unsigned char>(value[0]);
    if (n == 0 || value.size() < 1 + n + 8u)
      return false;
    std::uint64_t seq = 0;
    decode_u64(value.substr(1 + n, 8), seq);
    if (!visit(value.substr(1, n), seq))
      return true;
    value.remove_prefix(1 + n + 8);
  }
  return true;
}

bool decode_event_key(std::string_view key, std::string_view& cid, std::uint64_t& seq) {
  if (key.size() < 10 || key[key.size() - 9] != '\0')
    return false;
  cid = key.substr(0, key.size() - 9);
  if (!valid_correlation_id(cid))
    return false;
  return decode_u64(key.substr(key.size() - 8), seq);
}

} // namespace nexus::storage
