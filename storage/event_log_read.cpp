// Reading the event log: one saga's events, every event in write order, a
// cursor over many sagas, and the saga and breaker rows.
#include "storage/event_log.hpp"

#include <algorithm>
#include <limits>

#include <rocksdb/perf_level.h>

#include "storage/event_log_impl.hpp"
#include "storage/keys.hpp"
#include "storage/timestamp.hpp"

namespace nexus::storage {

namespace {

/// The row of `key` (a `what`: saga or breaker) in `family` of the log in
/// `dir`, decoded by `decode`; none when there is none (`st` ok) or it
/// cannot be read or decoded (`st` says why, naming it and the log).
template <class Row, class Decode>
std::optional<Row> find_row(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                            const std::string& dir, const char* what, std::string_view key,
                            Decode decode, status& st) {
  std::string value;
  auto s = db.Get({}, family, rocksdb::Slice{key.data(), key.size()}, &value);
  st = status::ok();
  if (s.IsNotFound())
    return std::nullopt;
  if (!s.ok()) {
    st = from(s, std::string{"cannot read "} + what + " " + std::string{key} + " from " + dir);
    return std::nullopt;
  }
  Row row;
  std::string err;
  if (!decode(value, row, err)) {
    st = status::error(std::string{what} + " " + std::string{key} + " in " + dir + ": " + err);
    return std::nullopt;
  }
  return row;
}

} // namespace


status event_log::read_in_order(std::uint64_t position,
                                const std::function<bool(std::uint64_t, std::string_view)>& visit,
                                std::string_view only_cid) const {
  auto& d = *impl_;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_order))};
  std::string value;
  for (it->Seek(encode_u64(position)); it->Valid(); it->Next()) {
    std::uint64_t pos = 0;
    if (!decode_u64(it->key().ToStringView(), pos))
      return status::error("event log in " + d.dir + " has a malformed order index key");
    status bad = status::ok();
    bool go_on = true;
    auto ok = for_each_order_entry(it->value().ToStringView(), [&](std::string_view cid, std::uint64_t seq) {
      if (!only_cid.empty() && cid != only_cid)
        return true;
      auto s = d.db->Get({}, d.cf(f_events), event_key(cid, seq), &value);
      if (s.IsNotFound())
        return true; // removed by retention
      if (!s.ok()) {
        bad = from(s, "cannot read an event from " + d.dir);
        return false;
      }
      go_on = visit(pos, value);
      return go_on;
    });
    if (!ok)
      return status::error("event log in " + d.dir + " has a malformed order index entry");
    if (!bad || !go_on)
      return bad;
  }
  return from(it->status(), "cannot read the order index of " + d.dir);
}

namespace {

/// Visits the stored events of `cid` with from <= seq <= to through `it`.
status scan_saga(rocksdb::Iterator& it, const std::string& dir, std::string_view cid,
                 std::uint64_t from_seq, std::uint64_t to_seq,
                 const std::function<bool(std::uint64_t, std::string_view)>& visit) {
  auto prefix = event_prefix(cid);
  for (it.Seek(event_key(cid, from_seq)); it.Valid(); it.Next()) {
    auto key = it.key().ToStringView();
    if (key.substr(0, prefix.size()) != prefix)
      break;
    std::string_view kcid;
    std::uint64_t seq = 0;
    if (!decode_event_key(key, kcid, seq))
      return status::error("malformed event key in " + dir);
    if (seq > to_seq)
      break;
    if (!visit(seq, it.value().ToStringView()))
      return status::ok();
  }
  return from(it.status(), "cannot read events from " + dir);
}

/// Decodes each stored event for `visit`.
std::function<bool(std::uint64_t, std::string_view)> decoding(
  std::string_view cid, const std::string& dir, const std::function<bool(const event&)>& visit,
  event& e, status& bad) {
  return [&, cid](std::uint64_t seq, std::string_view json) {
    std::string err;
    if (!decode_event(json, e, err)) {
      bad = status::error("event " + std::to_string(seq) + " of " + std::string{cid} + " in "
                          + dir + ": " + err);
      return false;
    }
    return visit(e);
  };
}

} // namespace

status event_log::read_raw(
  std::string_view cid, std::uint64_t from_seq, std::uint64_t to_seq,
  const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  auto& d = *impl_;
  auto upper = event_key(cid, to_seq == std::numeric_limits<std::uint64_t>::max() ? to_seq : to_seq + 1);
  rocksdb::Slice upper_slice{upper};
  rocksdb::ReadOptions ro;
  if (to_seq != std::numeric_limits<std::uint64_t>::max())
    ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator(ro, d.cf(f_events))};
  return scan_saga(*it, d.dir, cid, from_seq, to_seq, visit);
}

struct event_cursor::impl {
  std::string dir;
  std::unique_ptr<rocksdb::Iterator> it;
  event e;
};

event_cursor::event_cursor(std::unique_ptr<impl> p) : impl_(std::move(p)) {
}

event_cursor::~event_cursor() = default;

status event_cursor::read_events(std::string_view cid,
                                 const std::function<bool(const event&)>& visit) {
  auto& c = *impl_;
  status bad = status::ok();
  auto st = scan_saga(*c.it, c.dir, cid, 1, std::numeric_limits<std::uint64_t>::max(),
                      decoding(cid, c.dir, visit, c.e, bad));
  return st ? bad : st;
}

std::unique_ptr<event_cursor> event_log::cursor() const {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  auto c = std::make_unique<event_cursor::impl>();
  c->dir = impl_->dir;
  c->it.reset(impl_->db->NewIterator({}, impl_->cf(f_events)));
  return std::unique_ptr<event_cursor>{new event_cursor{std::move(c)}};
}

status event_log::for_each_event(
  const std::function<bool(std::string_view, std::string_view)>& visit) const {
  auto& d = *impl_;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false; // one pass over everything: keep the cache for others
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator(ro, d.cf(f_events))};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view cid;
    std::uint64_t seq = 0;
    if (!decode_event_key(it->key().ToStringView(), cid, seq))
      return status::error("malformed event key in " + d.dir);
    if (!visit(cid, it->value().ToStringView()))
      return status::ok();
  }
  return from(it->status(), "cannot read events from " + d.dir);
}

status event_log::read_events(std::string_view cid, std::uint64_t from_seq, std::uint64_t to_seq,
                              const std::function<bool(const event&)>& visit) const {
  status bad = status::ok();
  event e;
  auto st = read_raw(cid, from_seq, to_seq, decoding(cid, impl_->dir, visit, e, bad));
  return st ? bad : st;
}

status event_log::for_each_saga(
  const std::function<bool(std::string_view, const saga_row&)>& visit,
  std::string_view after) const {
  auto& d = *impl_;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_sagas))};
  saga_row row;
  std::string err;
  if (after.empty())
    it->SeekToFirst();
  else
    it->Seek(rocksdb::Slice{after.data(), after.size()});
  for (; it->Valid(); it->Next()) {
    auto cid = it->key().ToStringView();
    if (!after.empty() && cid == after)
      continue;
    if (!decode_saga_row(it->value().ToStringView(), row, err))
      return status::error("saga " + std::string{cid} + " in " + d.dir + ": " + err);
    if (!visit(cid, row))
      return status::ok();
  }
  return from(it->status(), "cannot read sagas from " + d.dir);
}

std::optional<saga_row> event_log::find_saga(std::string_view cid, status& st) const {
  auto& d = *impl_;
  return find_row<saga_row>(*d.db, d.cf(f_sagas), d.dir, "saga", cid, decode_saga_row, st);
}

status event_log::for_each_timer(
  std::string_view after,
  const std::function<bool(std::int64_t, std::string_view, std::string_view)>& visit) const {
  auto& d = *impl_;
  if (d.cf(f_timers) == nullptr) // a log from before timers: none is set
    return status::ok();
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_timers))};
  if (after.empty())
    it->SeekToFirst();
  else
    it->Seek(rocksdb::Slice{after.data(), after.size()});
  for (; it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    if (key == after)
      continue;
    std::int64_t wake = 0;
    std::string_view cid;
    if (!decode_timer_key(key, wake, cid))
      return status::error("malformed timer key in " + d.dir);
    if (!visit(wake, cid, key))
      return status::ok();
  }
  return from(it->status(), "cannot read timers from " + d.dir);
}

status event_log::for_each_breaker(
  const std::function<bool(std::string_view, const breaker_row&)>& visit) const {
  auto& d = *impl_;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_breakers))};
  breaker_row row;
  std::string err;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto resource = it->key().ToStringView();
    if (!decode_breaker_row(it->value().ToStringView(), row, err))
      return status::error("breaker " + std::string{resource} + " in " + d.dir + ": " + err);
    if (!visit(resource, row))
      return status::ok();
  }
  return from(it->status(), "cannot read breakers from " + d.dir);
}

std::optional<breaker_row> event_log::find_breaker(std::string_view resource, status& st) const {
  auto& d = *impl_;
  return find_row<breaker_row>(*d.db, d.cf(f_breakers), d.dir, "breaker", resource,
                               decode_breaker_row, st);
}

} // namespace nexus::storage
