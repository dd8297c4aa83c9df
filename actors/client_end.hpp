#pragma once

#include <cstdint>

namespace nexus::actors {

/// How a client of a coordinator (a worker node, a submitter) ended; the
/// program that ran it turns this into its exit status.
enum class client_end : std::uint8_t {
  done,    ///< Its work ended as it should, or it was told to stop.
  refused, ///< A bad request, or one the coordinator refused (token, steps, saga).
  lost,    ///< No coordinator could be reached in time, or it was lost.
};

} // namespace nexus::actors
