// The `definitions` family: each saga definition once, under its hash. A
// value is a header line (`{"saga":...,"stored":...}`) and then the
// definition's text, byte for byte as it was hashed: re-encoding it as JSON
// could change an escape, and with it the hash.
#include "storage/event_log.hpp"

#include <simdjson.h>

#include "config/json_writer.hpp"
#include "storage/event_log_impl.hpp"
#include "storage/timestamp.hpp"

namespace nexus::storage {

namespace {

std::string encode(const stored_definition& d) {
  std::string out;
  config::json_object_writer w{out};
  w.field("saga", d.saga).field("stored", format_timestamp(d.stored_us));
  w.finish();
  out += '\n';
  out += d.json;
  return out;
}

bool decode(std::string_view hash, std::string_view value, stored_definition& d,
            std::string& error) {
  auto nl = value.find('\n');
  if (nl == std::string_view::npos) {
    error = "definition " + std::string{hash} + " has no header line";
    return false;
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view saga, stored;
  if (parser.parse(value.data(), nl).get(doc) || doc["saga"].get(saga)
      || doc["stored"].get(stored)) {
    error = "definition " + std::string{hash} + " has a damaged header";
    return false;
  }
  auto ts = parse_timestamp(stored);
  if (!ts) {
    error = "definition " + std::string{hash} + " has a bad timestamp";
    return false;
  }
  d.hash.assign(hash);
  d.saga.assign(saga);
  d.stored_us = *ts;
  d.json.assign(value.substr(nl + 1));
  return true;
}

} // namespace

status event_log::store_definition(const stored_definition& def) {
  auto& d = *impl_;
  if (d.opts.read_only || d.cf(f_definitions) == nullptr)
    return status::error("event log in " + d.dir + " is open read-only");
  status st = status::ok();
  if (auto known = find_definition(def.hash, st)) {
    if (known->json != def.json || known->saga != def.saga)
      return status::error("definition " + def.hash + " in " + d.dir
                           + " holds other text than its hash names: the log is damaged");
    return status::ok();
  }
  if (!st)
    return st;
  rocksdb::WriteOptions wo;
  wo.sync = d.opts.durability == config::durability::sync;
  rocksdb::WriteBatch wb;
  if (auto s = wb.Put(d.cf(f_definitions), def.hash, encode(def)); !s.ok())
    return from(s, "cannot stage definition " + def.hash);
  return from(d.commit(wo, wb), "cannot store definition " + def.hash + " in " + d.dir);
}

std::optional<stored_definition> event_log::find_definition(std::string_view hash,
                                                            status& st) const {
  auto& d = *impl_;
  st = status::ok();
  if (d.cf(f_definitions) == nullptr)
    return std::nullopt;
  std::string value;
  auto s = d.db->Get({}, d.cf(f_definitions), rocksdb::Slice{hash.data(), hash.size()}, &value);
  if (s.IsNotFound())
    return std::nullopt;
  if (!s.ok()) {
    st = from(s, "cannot read definition " + std::string{hash} + " from " + d.dir);
    return std::nullopt;
  }
  stored_definition def;
  std::string error;
  if (!decode(hash, value, def, error)) {
    st = status::error(error + " in " + d.dir);
    return std::nullopt;
  }
  return def;
}

status event_log::for_each_definition(
  const std::function<bool(const stored_definition&)>& visit) const {
  auto& d = *impl_;
  if (d.cf(f_definitions) == nullptr)
    return status::ok();
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_definitions))};
  stored_definition def;
  std::string error;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!decode(it->key().ToStringView(), it->value().ToStringView(), def, error))
      return status::error(error + " in " + d.dir);
    if (!visit(def))
      return status::ok();
  }
  return from(it->status(), "cannot read definitions from " + d.dir);
}

} // namespace nexus::storage
