// Canonical text form of a trace and the first-divergence diff built on it.
// The dump is a pure function of the decoded trace: one header item or one
// event per line, no pointers, no locale, so two runs that recorded the same
// thing dump to the same text and `diff` on dumps shows what changed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "traces/trace_reader.hpp"

namespace aerov::traces {

// Byte fields up to this many bytes print in full as hex; longer ones print
// their length, first kDumpHeadBytes bytes and fnv1a64.
inline constexpr size_t kDumpFullBytes = 32;
inline constexpr size_t kDumpHeadBytes = 8;

// One event, e.g. `t=1234 mmio_write device=0 bar=0 offset=0x3000 width=2 value=0x1`.
// `spec` is the event's kind from the file's table (nullptr: undescribed).
std::string event_line(const KindSpec* spec, const EventView& event);
// Every event's line, in trace order.
std::vector<std::string> event_lines(const Trace& trace);
// Header lines, then one line per event, then the end line; '\n'-terminated.
std::string dump_trace(const Trace& trace);

struct TraceDiff {
  bool identical = true;
  uint64_t index = 0;  // first divergent event (when !identical)
  std::optional<uint64_t> time_a, time_b;  // empty: that trace had ended
  std::string line_a, line_b;              // "(end of trace)" for an ended trace
  uint64_t events_a = 0, events_b = 0;
  bool provenance_differs = false;  // informational: seeds, commits etc.
  std::string report() const;
};

// Compares the events of two traces by their canonical lines. Provenance is
// not part of the verdict (a replay runs at another commit); it is noted.
TraceDiff diff_traces(const Trace& a, const Trace& b);

}  // namespace aerov::traces
