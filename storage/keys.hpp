#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nexus::storage {

// Persisted: changing these layouts breaks recovery of every existing log.
//
// events family:  <cid> 0x00 <seq: 8 bytes big-endian>  -> event JSON
// sagas family:   <cid>                                -> saga row JSON
// order family:   <global position: 8 bytes big-endian> -> event key
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

/// 8 bytes big-endian.
std::string encode_u64(std::uint64_t x);

/// Inverse of encode_u64; false unless `bytes` is 8 bytes long.
bool decode_u64(std::string_view bytes, std::uint64_t& x);

} // namespace nexus::storage
