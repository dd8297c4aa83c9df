#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace nexus::storage {

// Persisted: changing these layouts breaks recovery of every existing log.
//
// events family:  <cid> 0x00 <seq: 8 bytes big-endian>  -> event JSON
// sagas family:   <cid>                                -> saga row JSON
// timers family:  <wake time: 8 bytes big-endian, microseconds since the
//                  epoch> <cid>                        -> empty
// order family:   <batch number: 8 bytes big-endian> -> the event keys
//                  written in that batch, in write order, each as
//                  <1 byte: cid length> <cid> <seq: 8 bytes big-endian>
//
// Big-endian sequence numbers make RocksDB's bytewise order the numeric
// order; the 0x00 separator, which a correlation ID never holds, keeps the
// events of `a` apart from those of `ab`.

/// Key of event `seq` of saga `cid`.
std::string event_key(std::string_view cid, std::uint64_t seq);

/// The prefix every event key of `cid` starts with: `cid` and 0x00.
std::string event_prefix(std::string_view cid);

/// Splits an event key; false if it is not one.
bool decode_event_key(std::string_view key, std::string_view& cid, std::uint64_t& seq);

/// Appends one event key to an order-family value (see above).
void append_order_entry(std::string& value, std::string_view cid, std::uint64_t seq);

/// Splits an order-family value into event keys; false if malformed.
bool for_each_order_entry(std::string_view value,
                          const std::function<bool(std::string_view cid, std::uint64_t seq)>& visit);

/// Key of saga `cid`'s timer, due at `wake_us`: the family's order is due order.
std::string timer_key(std::int64_t wake_us, std::string_view cid);

/// Splits a timer key; false if it is not one.
bool decode_timer_key(std::string_view key, std::int64_t& wake_us, std::string_view& cid);

/// 8 bytes big-endian.
std::string encode_u64(std::uint64_t x);

/// Inverse of encode_u64; false unless `bytes` is 8 bytes long.
bool decode_u64(std::string_view bytes, std::uint64_t& x);

} // namespace nexus::storage
