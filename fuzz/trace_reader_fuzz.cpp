// libFuzzer target: the trace reader and canonical dump (docs/trace-format.md)
// on arbitrary bytes. A trace file is untrusted input (it may come from a bug
// report); whatever its length fields say, reading must end with a trace or
// a typed error, never read out of bounds, and allocate in proportion to the
// input only.
//
// Checked: an error names an offset inside the input (or its end) and a
// message carrying that offset; the streaming reader and read_trace agree;
// an accepted v2.0 trace without undescribed records re-encodes to exactly
// the input bytes (the format has one encoding per content) and dumps with
// one line per event.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "traces/trace_dump.hpp"
#include "traces/trace_reader.hpp"
#include "traces/trace_writer.hpp"

namespace {

using namespace aerov::traces;

size_t count_lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

bool reencodable(const Trace& t) {
  // The writer writes the current version only.
  if (t.version_major != kVersionMajor || t.version_minor != kVersionMinor) return false;
  for (const EventView& e : t.events) {
    if (e.undescribed) return false;
  }
  for (const KindSpec& spec : t.table) {
    const KindSpec* v1 = find_v1_kind(spec.kind);
    if (v1 != nullptr && !(*v1 == spec)) return false;  // a later minor's extension
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  const ReadResult r = read_trace(bytes);

  // The streaming reader sees the same events and the same error.
  TraceReader stream(bytes);
  uint64_t streamed = 0;
  TraceReader::Step step = TraceReader::Step::kError;
  if (stream.read_header()) {
    EventView e;
    while ((step = stream.next(e)) == TraceReader::Step::kEvent) {
      FUZZ_CHECK(!r.ok() || (streamed < r.trace.events.size() && r.trace.events[streamed] == e));
      ++streamed;
    }
  }

  if (!r.ok()) {
    aerov::fuzz::trace("rejected: %s", r.error->message.c_str());
    FUZZ_CHECK(step == TraceReader::Step::kError);
    FUZZ_CHECK(stream.error().has_value() && stream.error()->kind == r.error->kind &&
               stream.error()->offset == r.error->offset);
    FUZZ_CHECK(r.error->offset <= size);
    FUZZ_CHECK(r.error->message.find("at byte " + std::to_string(r.error->offset) + ": ") !=
               std::string::npos);
    return 0;
  }
  FUZZ_CHECK(step == TraceReader::Step::kEnd);
  FUZZ_CHECK(streamed == r.trace.events.size());
  aerov::fuzz::trace("accepted: %zu events", r.trace.events.size());

  const std::string dump = dump_trace(r.trace);
  const size_t header_lines = 5 + r.trace.provenance.devices.size() + r.trace.table.size();
  FUZZ_CHECK(count_lines(dump) == header_lines + r.trace.events.size() + 1);
  FUZZ_CHECK(dump == dump_trace(r.trace));

  if (reencodable(r.trace)) {
    const std::vector<uint8_t> again = write_trace(r.trace.provenance, r.trace.events.to_events(), r.trace.table);
    FUZZ_CHECK(again.size() == size && std::equal(again.begin(), again.end(), data));
  }
  return 0;
}
