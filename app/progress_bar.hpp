#pragma once

#include <string>

#include "runtime/run_summary.hpp"

namespace nexus::app {

/// The one-line progress of a run as a terminal shows it: sagas done of the
/// total (when known) with a bar, the rate, the time left, and the counts by
/// outcome, cut to `width` columns.
std::string progress_line(const runtime::run_summary& s, std::size_t width);

/// Draws progress on standard error while a run works, redrawn in place (a
/// few times a second, as the engine calls it), and clears it at the end.
/// Draws nothing unless standard error is a terminal.
class progress_bar {
public:
  progress_bar();
  ~progress_bar();
  bool active() const { return active_; }
  void draw(const runtime::run_summary& s);
  /// Draws `line` in place (cut to the terminal's width).
  void draw_text(std::string line);
  /// Removes what was drawn, so that the next output starts a clean line.
  void clear();

private:
  bool active_;
  bool drawn_ = false;
};

} // namespace nexus::app
