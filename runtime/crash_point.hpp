#pragma once

namespace nexus::runtime {

/// Test hook: kills the process (SIGKILL, as a power cut or the OOM killer
/// would) the n-th time the point named `name` is passed, when
/// NEXUS_CRASH_AT=`name`[:n] (n = 1 if left out) is set in the environment.
/// Otherwise, and for every other point, it costs one predictable branch.
///
/// The points, in the order a step's life passes them:
///   `effect`  a step's action has run (its effect applied), its outcome
///             not yet sent to the saga;
///   `written` the writer has written a batch to the WAL file, not yet
///             synced (`durability: sync`, whose writes are pipelined);
///   `append`  the writer has written a batch (durable), its appends not yet
///             acknowledged;
///   `ack`     a saga has its events acknowledged, the commands they allow
///             not yet sent.
void crash_point(const char* name);

} // namespace nexus::runtime
