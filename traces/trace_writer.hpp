// TraceWriter: streams a v2 trace (docs/trace-format.md) into a byte vector
// or a file. Output depends only on the provenance, the event table and the
// events written: the same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "traces/file_hash.hpp"
#include "traces/trace_event.hpp"
#include "traces/trace_format.hpp"

namespace aerov::traces {

class TraceWriter {
 public:
  // Appends the trace to `out`, which must outlive the writer.
  TraceWriter(std::vector<uint8_t>& out, const Provenance& provenance,
              const std::vector<KindSpec>& table = v1_event_table());
  // Writes the trace to `path` (truncating it); throws std::runtime_error
  // when the file cannot be written.
  TraceWriter(const std::string& path, const Provenance& provenance,
              const std::vector<KindSpec>& table = v1_event_table());
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  ~TraceWriter();

  // Appends one record. Throws std::invalid_argument when the event's kind
  // is not in the table, its fields do not match the kind's description, a
  // value does not fit its field, or time goes backwards; and
  // std::logic_error after finish().
  void write(const Event& event);
  void write(const EventView& event) { write(event.to_event()); }
  // Writes the end record (event count, record hash) and flushes. Required:
  // a trace without it is rejected as truncated.
  void finish();

  uint64_t event_count() const { return event_count_; }
  uint64_t last_time_cycles() const { return last_time_; }
  // True once `interval` events were written since the last state_hash: the
  // recorder should then write one (the writer cannot see machine state).
  bool state_hash_due(uint64_t interval = kDefaultStateHashInterval) const {
    return events_since_state_hash_ >= interval;
  }

 private:
  void emit(const std::vector<uint8_t>& bytes);
  void write_header(const Provenance& provenance);
  void flush_file();

  std::vector<uint8_t>* out_ = nullptr;
  std::ofstream file_;
  std::string path_;
  std::vector<KindSpec> table_;
  std::vector<uint8_t> pending_;  // file mode: bytes not yet written
  FileHash hash_{kVersionMajor};
  uint64_t event_count_ = 0;
  uint64_t last_time_ = 0;
  uint64_t events_since_state_hash_ = 0;
  bool finished_ = false;
};

// Convenience: a whole trace in memory.
std::vector<uint8_t> write_trace(const Provenance& provenance, const std::vector<Event>& events,
                                 const std::vector<KindSpec>& table = v1_event_table());

}  // namespace aerov::traces
