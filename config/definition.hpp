#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/workflow.hpp"

namespace nexus::config {

/// A saga's definition as stored in the event log: what decides what its
/// sagas do (deadline, steps in order and in parallel groups, each step's
/// resource, timeout, action, compensation and retry policies), written as
/// the saga's entry of a workflow file with every default spelled out, keys
/// in a fixed order. Left out: the stage's capacity (`concurrency`, `queue`),
/// which is the node's to choose and may change between runs, and the
/// breakers' settings, which belong to the resource that all sagas share.
/// Persisted: its text is what the content hash is taken of, so changing
/// how a field is written makes every stored definition look new.
std::string definition_json(const saga_spec& saga);

/// What a step does going forward (resource, timeout, action, retry), and
/// when compensated (resource, timeout, compensation and its retry; empty
/// for a pivot), in the same form: equal text, equal behaviour.
std::string forward_json(const step_spec& step);
std::string compensation_json(const step_spec& step);

/// SHA-256 of `text` in lower-case hex (64 characters).
std::string sha256_hex(std::string_view text);

/// The content hash of saga `name`'s definition text `json`: the SHA-256,
/// in hex, of the name, a colon and the text (two sagas defined alike are
/// still two definitions).
std::string definition_hash(const std::string& name, std::string_view json);

/// Sets `saga.hash` (its definition_hash) and `saga.id`
/// (the hash's first 16 hex digits as a number: what messages carry).
void stamp_definition(saga_spec& saga);

/// The short form of a definition's hash that listings show.
inline std::string_view short_hash(std::string_view hash) { return hash.substr(0, 12); }

/// The id that messages carry for `hash`; 0 for a malformed one.
std::uint64_t definition_id(std::string_view hash);

/// Reads a stored definition of saga `name` back (stamped); nullopt, with
/// `error`, if it does not parse or does not hash to `hash`.
std::optional<saga_spec> parse_definition(std::string_view json, const std::string& name,
                                          std::string_view hash, std::string& error);

} // namespace nexus::config
