// TraceReader: parses a v1 or v2 trace from untrusted bytes. Every failure is a
// TraceError naming the kind, the byte offset and the cause; the reader
// never reads outside the input and allocates at most a constant factor of
// the input's size, whatever its length fields say.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "traces/file_hash.hpp"
#include "traces/trace_event.hpp"
#include "traces/trace_format.hpp"

namespace aerov::traces {

enum class TraceErrorKind {
  kBadMagic,            // the first 8 bytes are not "AEROVTRC"
  kUnsupportedVersion,  // major version outside kOldestMajor..kVersionMajor
  kTruncatedHeader,     // the file or the declared header ends inside a header field
  kBadHeader,           // a header value is invalid (BDF, field type, duplicate kind, ...)
  kTruncatedRecord,     // the file ends inside a record's kind, time or length
  kRecordOverflow,      // a record's payload length runs past the end of the file
  kBadVarint,           // a time delta is not a minimal LEB128 encoding of a u64
  kTimeOverflow,        // the accumulated time passes 2^64 - 1
  kShortPayload,        // a payload ends before its kind's fields do
  kLongPayload,         // a payload has bytes after its kind's fields
  kMissingEnd,          // the records end without an end record
  kBadEndRecord,        // an end record whose payload is not 16 bytes
  kCountMismatch,       // the end record's event count differs from the records
  kHashMismatch,        // the end record's hash differs from the bytes before it
  kTrailingData,        // bytes after the end record
  kIo,                  // the file could not be read
};

std::string_view error_kind_name(TraceErrorKind kind);

struct TraceError {
  TraceErrorKind kind;
  uint64_t offset;      // byte offset in the file where the problem lies
  std::string message;  // "<kind> at byte <offset>: <cause>"
};

struct Trace {
  uint16_t version_major = kVersionMajor;
  uint16_t version_minor = kVersionMinor;
  Provenance provenance;
  std::vector<KindSpec> table;  // the file's event table, in file order
  EventList events;
  uint64_t record_hash = 0;  // from the end record (verified)
};

struct ReadResult {
  Trace trace;                      // meaningful only when !error
  std::optional<TraceError> error;
  bool ok() const { return !error.has_value(); }
};

// Streaming reader over bytes the caller keeps alive.
class TraceReader {
 public:
  explicit TraceReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  // Parses magic, version and header. Returns false on error (see error()).
  bool read_header();
  const Trace& header() const { return header_; }  // provenance and table; no events

  enum class Step { kEvent, kEnd, kError };
  // Reads the next record. kEnd once the end record was read and verified.
  // `out` views the reader's input and a field buffer the reader reuses: it
  // is valid until the next call. Decoding allocates nothing once that
  // buffer has grown to the widest kind.
  Step next(EventView& out);

  const std::optional<TraceError>& error() const { return error_; }
  uint64_t offset() const { return pos_; }

 private:
  bool fail(TraceErrorKind kind, uint64_t offset, const std::string& cause);
  // True when n bytes are available at pos_ before `limit`; else fails.
  bool need(size_t n, uint64_t limit, TraceErrorKind kind, const char* what) {
    return (pos_ <= limit && limit - pos_ >= n) || short_of(n, limit, kind, what);
  }
  bool short_of(size_t n, uint64_t limit, TraceErrorKind kind, const char* what);
  bool header_u8(uint64_t limit, uint8_t* v, const char* what);
  bool header_u16(uint64_t limit, uint16_t* v, const char* what);
  bool header_u64(uint64_t limit, uint64_t* v, const char* what);
  bool header_string(uint64_t limit, std::string* s, const char* what);
  bool read_devices(uint64_t limit);
  bool read_table(uint64_t limit);
  // How to decode one kind of the file's table, worked out once.
  struct Plan {
    const KindSpec* spec = nullptr;
    std::vector<uint8_t> widths;  // per field: integer bytes, 0 for bytes/text
    uint32_t fixed = 0;           // all-integer kinds: the payload's exact size
    bool all_integer = true;
  };
  bool decode_payload(const Plan& plan, uint64_t start, uint32_t length);
  bool short_payload(const Plan& plan, size_t field, size_t n, uint64_t end);
  Step read_end(uint64_t start, uint32_t length);  // start: the end record's offset

  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
  Trace header_;
  std::vector<Plan> plans_;           // parallel to header_.table
  std::vector<uint32_t> plan_by_kind_;  // kind -> plans_ index + 1; 0: undescribed
  std::vector<FieldRef> fields_;      // the current event's fields
  std::optional<TraceError> error_;
  uint64_t time_ = 0;
  uint64_t events_ = 0;
  bool header_done_ = false;
  bool ended_ = false;
};

// Reads a whole trace (header, every event, end record).
ReadResult read_trace(std::span<const uint8_t> bytes);
ReadResult read_trace_file(const std::string& path);

}  // namespace aerov::traces
