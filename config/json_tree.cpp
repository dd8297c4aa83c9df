#include "config/json_tree.hpp"

#include <algorithm>
#include <unordered_set>

#include <simdjson.h>

#include "config/json_syntax.hpp"

namespace nexus::config {

namespace {

using namespace simdjson;

/// Lines of the places a walk of one document visits, mostly in order: each
/// count goes on from the last place instead of the start (counting from the
/// start every time made a file of 100,000 steps take minutes).
class line_counter {
public:
  explicit line_counter(const char* base) : base_(base), at_(base) {}

  std::uint32_t line_of(const char* at) {
    if (at == nullptr || at < base_)
      return 0;
    if (at < at_) { // back: count again from the start
      at_ = base_;
      line_ = 1;
    }
    line_ += static_cast<std::uint32_t>(std::count(at_, at, '\n'));
    at_ = at;
    return line_;
  }

private:
  const char* base_;
  const char* at_;
  std::uint32_t line_ = 1;
};

struct tree_builder {
  line_counter lines;
  std::size_t max_depth;
  json_parse_error& err;

  bool fail(const char* at, std::string message, bool syntax = true) {
    err.line = lines.line_of(at);
    err.message = std::move(message);
    err.syntax = syntax;
    return false;
  }

  bool build(ondemand::value v, json_node& out, std::size_t depth) {
    std::string_view token = v.raw_json_token();
    out.line = lines.line_of(token.data());
    if (depth > max_depth)
      return fail(token.data(), "nesting deeper than " + std::to_string(max_depth) + " levels",
                  false);
    ondemand::json_type t;
    if (auto e = v.type().get(t))
      return fail(token.data(), error_message(e));
    switch (t) {
      case ondemand::json_type::null:
        out.type = json_node::kind::null;
        if (!v.is_null())
          return fail(token.data(), "invalid literal");
        return true;
      case ondemand::json_type::boolean:
        out.type = json_node::kind::boolean;
        if (auto e = v.get_bool().get(out.boolean))
          return fail(token.data(), error_message(e));
        return true;
      case ondemand::json_type::number:
        return build_number(v, out, token.data());
      case ondemand::json_type::string: {
        out.type = json_node::kind::string;
        std::string_view s;
        if (auto e = v.get_string().get(s))
          return fail(token.data(), error_message(e));
        out.text.assign(s);
        return true;
      }
      case ondemand::json_type::array: {
        out.type = json_node::kind::array;
        ondemand::array a;
        if (auto e = v.get_array().get(a))
          return fail(token.data(), error_message(e));
        for (auto item : a) {
          ondemand::value iv;
          if (auto e = item.get(iv))
            return fail(token.data(), error_message(e));
          out.items.emplace_back();
          if (!build(iv, out.items.back(), depth + 1))
            return false;
        }
        return true;
      }
      case ondemand::json_type::object: {
        out.type = json_node::kind::object;
        ondemand::object o;
        if (auto e = v.get_object().get(o))
          return fail(token.data(), error_message(e));
        std::unordered_set<std::string> seen;
        for (auto field : o) {
          json_member m;
          ondemand::raw_json_string raw_key;
          if (auto e = field.key().get(raw_key))
            return fail(token.data(), error_message(e));
          m.line = lines.line_of(raw_key.raw());
          std::string_view key;
          if (auto e = field.unescaped_key().get(key))
            return fail(raw_key.raw(), error_message(e));
          m.key.assign(key);
          if (!seen.insert(m.key).second)
            return fail(raw_key.raw(),
                        "duplicate key \"" + m.key
                          + "\" (JSON allows it, but which one counts differs from reader to reader)",
                        false);
          ondemand::value fv;
          if (auto e = field.value().get(fv))
            return fail(raw_key.raw(), error_message(e));
          if (!build(fv, m.value, depth + 1))
            return false;
          out.members.push_back(std::move(m));
        }
        return true;
      }
    }
    return fail(token.data(), "unexpected value");
  }

  bool build_number(ondemand::value v, json_node& out, const char* at) {
    ondemand::number n;
    if (auto e = v.get_number().get(n))
      return fail(at, std::string{"number out of range ("} + error_message(e) + ")", false);
    switch (n.get_number_type()) {
      case ondemand::number_type::signed_integer:
        out.type = json_node::kind::integer;
        out.integer = n.get_int64();
        break;
      case ondemand::number_type::unsigned_integer:
        out.type = json_node::kind::unsigned_integer;
        out.unsigned_integer = n.get_uint64();
        break;
      default:
        out.type = json_node::kind::real;
        out.real = n.get_double();
    }
    return true;
  }
};

} // namespace

const json_member* json_node::find(std::string_view key) const {
  for (auto& m : members)
    if (m.key == key)
      return &m;
  return nullptr;
}

std::optional<json_node> parse_json_tree(std::string_view text, json_parse_error& err,
                                         std::size_t max_depth) {
  padded_string buf{text};
  // The DOM parser validates the whole document strictly first; the on-demand
  // pass that follows only runs over valid JSON and records positions.
  dom::parser strict;
  dom::element ignored;
  bool refused = false; // by simdjson, though it is JSON
  if (auto e = strict.parse(buf).get(ignored)) {
    // simdjson says what is wrong; a second pass says where.
    json_syntax_error at;
    if (find_json_syntax_error(text, at)) {
      err.line = at.line;
      err.column = at.column;
      err.message = at.message;
      return std::nullopt;
    }
    // JSON that simdjson cannot take (deeper than its limit, a number it
    // cannot represent): the walk below stops at the place, with the line.
    err.message = error_message(e);
    err.syntax = false;
    refused = true;
  }
  ondemand::parser od;
  ondemand::document doc;
  if (auto e = od.iterate(buf).get(doc)) {
    err.message = error_message(e);
    return std::nullopt;
  }
  json_node root;
  tree_builder b{line_counter{buf.data()}, max_depth, err};
  // A scalar document cannot be taken as an ondemand::value; the workflow
  // and input formats both want an object anyway.
  ondemand::json_type t;
  if (auto e = doc.type().get(t)) {
    err.message = error_message(e);
    return std::nullopt;
  }
  if (refused && t != ondemand::json_type::object && t != ondemand::json_type::array) {
    err.line = 1;
    return std::nullopt;
  }
  if (t != ondemand::json_type::object && t != ondemand::json_type::array) {
    root.line = 1;
    root.type = t == ondemand::json_type::string    ? json_node::kind::string
                : t == ondemand::json_type::number  ? json_node::kind::real
                : t == ondemand::json_type::boolean ? json_node::kind::boolean
                                                    : json_node::kind::null;
    return root;
  }
  ondemand::value v;
  if (auto e = doc.get_value().get(v)) {
    err.message = error_message(e);
    return std::nullopt;
  }
  if (!b.build(v, root, 1))
    return std::nullopt;
  if (refused) // the walk found nothing more precise to say
    return std::nullopt;
  return root;
}

std::string_view describe(json_node::kind k) {
  switch (k) {
    case json_node::kind::null:
      return "null";
    case json_node::kind::boolean:
      return "a boolean";
    case json_node::kind::integer:
    case json_node::kind::unsigned_integer:
    case json_node::kind::real:
      return "a number";
    case json_node::kind::string:
      return "a string";
    case json_node::kind::array:
      return "an array";
    case json_node::kind::object:
      return "an object";
  }
  return "a value";
}

} // namespace nexus::config
