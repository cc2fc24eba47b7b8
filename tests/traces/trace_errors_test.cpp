// Every reader error: the exact kind and byte offset, and no hostile or cut
// input is ever accepted.
#include <catch2/catch.hpp>

#include "tests/traces/sample_trace.hpp"
#include "traces/trace_dump.hpp"
#include "traces/trace_reader.hpp"

using namespace aerov::traces;
using namespace aerov::traces::testing;

namespace {

constexpr size_t kEndRecordBytes = 2 + 1 + 4 + 16;

// The sample header with no records after it; its size is where records start.
std::vector<uint8_t> header_only() {
  std::vector<uint8_t> b = write_trace(sample_provenance(), {});
  b.resize(b.size() - kEndRecordBytes);
  return b;
}

void append_end(std::vector<uint8_t>& b, uint64_t count) {
  const uint64_t hash = FileHash::of(b[8], b);
  put_u16(b, 0);
  put_varint(b, 0);
  put_u32(b, 16);
  put_u64(b, count);
  put_u64(b, hash);
}

void append_record(std::vector<uint8_t>& b, uint16_t kind, uint64_t delta,
                   const std::vector<uint8_t>& payload) {
  put_u16(b, kind);
  put_varint(b, delta);
  put_u32(b, static_cast<uint32_t>(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
}

void require_error(const std::vector<uint8_t>& bytes, TraceErrorKind kind, uint64_t offset) {
  const ReadResult r = read_trace(bytes);
  REQUIRE_FALSE(r.ok());
  INFO(r.error->message);
  CHECK(r.error->kind == kind);
  CHECK(r.error->offset == offset);
  CHECK(r.error->message.find("at byte " + std::to_string(offset) + ": ") != std::string::npos);
}

// Offset of the first device's slot byte in the sample header.
size_t first_device_slot_offset() {
  const Provenance p = sample_provenance();
  return kPreambleBytes + 8 + (4 + p.scenario.size()) + (4 + p.commit.size()) +
         (4 + p.config_json.size()) + 2 + 1 + (4 + p.devices[0].type.size()) + 1;
}

}  // namespace

TEST_CASE("Bad magic is reported at byte 0", "[trace]") {
  std::vector<uint8_t> b = sample_bytes();
  b[3] = 'x';
  require_error(b, TraceErrorKind::kBadMagic, 0);
  require_error({}, TraceErrorKind::kTruncatedHeader, 0);
  require_error({'A', 'E', 'R'}, TraceErrorKind::kTruncatedHeader, 3);
  require_error({'E', 'L', 'F'}, TraceErrorKind::kBadMagic, 0);
}

TEST_CASE("Another major version is refused, another minor read", "[trace]") {
  std::vector<uint8_t> b = sample_bytes();
  b[8] = kVersionMajor + 1;
  require_error(b, TraceErrorKind::kUnsupportedVersion, 8);
  b[8] = 0;
  require_error(b, TraceErrorKind::kUnsupportedVersion, 8);
  // A later minor may append header fields; they are skipped. A v2.0
  // header has none.
  std::vector<uint8_t> h = header_only();
  const size_t fields_end = h.size();
  const uint32_t len = static_cast<uint32_t>(h[12] | h[13] << 8 | h[14] << 16 | h[15] << 24) + 3;
  for (int i = 0; i < 4; ++i) h[12 + i] = static_cast<uint8_t>(len >> (8 * i));
  h.insert(h.end(), {9, 9, 9});
  append_end(h, 0);
  require_error(h, TraceErrorKind::kBadHeader, fields_end);
  h[10] = 7;
  h.resize(h.size() - kEndRecordBytes);
  append_end(h, 0);
  const ReadResult r = read_trace(h);
  INFO((r.error ? r.error->message : ""));
  REQUIRE(r.ok());
  CHECK(r.trace.version_minor == 7);
}

TEST_CASE("A v1 trace is read with its FNV-1a end hash, a v2 one with XXH3", "[trace]") {
  // The same content as major 1: only the version and the end hash differ.
  std::vector<uint8_t> v1 = sample_bytes();
  const ReadResult v2 = read_trace(v1);
  REQUIRE(v2.ok());
  v1[8] = 1;
  v1.resize(v1.size() - kEndRecordBytes);
  const std::vector<uint8_t> body = v1;
  append_end(v1, v2.trace.events.size());
  const ReadResult r = read_trace(v1);
  INFO((r.error ? r.error->message : ""));
  REQUIRE(r.ok());
  CHECK(r.trace.version_major == 1);
  CHECK(r.trace.record_hash == fnv1a64(body));
  CHECK(r.trace.events.size() == v2.trace.events.size());
  // Each major's hash only: a v1 file ending in the v2 hash is refused.
  std::vector<uint8_t> mixed = body;
  put_u16(mixed, 0);
  put_varint(mixed, 0);
  put_u32(mixed, 16);
  put_u64(mixed, v2.trace.events.size());
  put_u64(mixed, FileHash::of(2, body));
  require_error(mixed, TraceErrorKind::kHashMismatch, mixed.size() - 8);
}

TEST_CASE("A truncated header names where it ends", "[trace]") {
  const std::vector<uint8_t> h = header_only();
  require_error(std::vector<uint8_t>(h.begin(), h.begin() + 10), TraceErrorKind::kTruncatedHeader,
                10);
  // The declared header length runs past the file: reported at the length field.
  require_error(std::vector<uint8_t>(h.begin(), h.begin() + 40), TraceErrorKind::kTruncatedHeader,
                12);
  // A header length too small for its fields: the root seed does not fit.
  std::vector<uint8_t> small = h;
  small[12] = 4;
  small[13] = small[14] = small[15] = 0;
  require_error(small, TraceErrorKind::kTruncatedHeader, 16);
  // A string length beyond the header, checked before any allocation.
  std::vector<uint8_t> huge = h;
  huge[24] = huge[25] = huge[26] = huge[27] = 0xff;
  require_error(huge, TraceErrorKind::kTruncatedHeader, 28);
}

TEST_CASE("Invalid header values are bad headers", "[trace]") {
  const size_t slot = first_device_slot_offset();
  std::vector<uint8_t> b = header_only();
  REQUIRE(b[slot] == 3);
  b[slot] = 40;
  append_end(b, 0);
  require_error(b, TraceErrorKind::kBadHeader, slot);
  // The second device reuses id 0.
  std::vector<uint8_t> dup = header_only();
  const size_t second = slot + 2;
  REQUIRE(dup[second] == 1);
  dup[second] = 0;
  append_end(dup, 0);
  require_error(dup, TraceErrorKind::kBadHeader, second);
}

TEST_CASE("A record cut before its length is a truncated record", "[trace]") {
  const std::vector<uint8_t> h = header_only();
  const size_t at = h.size();
  std::vector<uint8_t> b = h;
  b.push_back(1);
  require_error(b, TraceErrorKind::kTruncatedRecord, at);
  b.push_back(0);
  require_error(b, TraceErrorKind::kTruncatedRecord, at + 2);
  b.push_back(0x80);  // a varint that continues past the end
  require_error(b, TraceErrorKind::kTruncatedRecord, at + 2);
  b.back() = 5;
  b.insert(b.end(), {4, 0});
  require_error(b, TraceErrorKind::kTruncatedRecord, at + 3);
}

TEST_CASE("A payload length past the end of the file is an overflow", "[trace]") {
  std::vector<uint8_t> b = header_only();
  const size_t at = b.size();
  put_u16(b, 1);
  put_varint(b, 0);
  put_u32(b, 0xffffffffu);
  b.insert(b.end(), 8, 0);
  require_error(b, TraceErrorKind::kRecordOverflow, at + 3);
}

TEST_CASE("A non-minimal or oversized time delta is a bad varint", "[trace]") {
  std::vector<uint8_t> b = header_only();
  const size_t at = b.size();
  put_u16(b, 5);
  b.insert(b.end(), {0x85, 0x00});
  put_u32(b, 3);
  b.insert(b.end(), {0, 0, 0});
  append_end(b, 1);
  require_error(b, TraceErrorKind::kBadVarint, at + 2);
  std::vector<uint8_t> c = header_only();
  put_u16(c, 5);
  c.insert(c.end(), 11, 0xff);
  require_error(c, TraceErrorKind::kBadVarint, at + 2);
}

TEST_CASE("Time that passes 2^64 cycles is refused", "[trace]") {
  std::vector<uint8_t> b = header_only();
  append_record(b, 5, UINT64_MAX, {0, 1, 0});
  const size_t second = b.size();
  append_record(b, 5, 1, {0, 1, 0});
  append_end(b, 2);
  require_error(b, TraceErrorKind::kTimeOverflow, second + 2);
}

TEST_CASE("A payload shorter or longer than its kind's fields is refused", "[trace]") {
  std::vector<uint8_t> b = header_only();
  const size_t payload = b.size() + 7;
  // config_read: device u8, offset u16, then width is missing.
  append_record(b, 1, 0, {0, 4, 0});
  append_end(b, 1);
  require_error(b, TraceErrorKind::kShortPayload, payload + 3);
  // mem_write whose bytes field claims more than the payload holds.
  std::vector<uint8_t> m = header_only();
  append_record(m, 6, 0, {0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1});
  append_end(m, 1);
  require_error(m, TraceErrorKind::kShortPayload, payload + 12);
  // doorbell with one byte too many.
  std::vector<uint8_t> d = header_only();
  append_record(d, 5, 0, {0, 1, 0, 0xee});
  append_end(d, 1);
  require_error(d, TraceErrorKind::kLongPayload, payload + 3);
}

TEST_CASE("Records that stop without an end record are refused", "[trace]") {
  std::vector<uint8_t> b = header_only();
  require_error(b, TraceErrorKind::kMissingEnd, b.size());
  append_record(b, 5, 3, {0, 1, 0});
  require_error(b, TraceErrorKind::kMissingEnd, b.size());
}

TEST_CASE("The end record checks count, hash and what follows it", "[trace]") {
  const std::vector<uint8_t> good = sample_bytes();
  const size_t n = good.size();
  std::vector<uint8_t> flipped = good;
  flipped[n - kEndRecordBytes - 3] ^= 0x20;  // inside the note's text
  require_error(flipped, TraceErrorKind::kHashMismatch, n - 8);
  std::vector<uint8_t> count = good;
  count[n - 16] += 1;
  require_error(count, TraceErrorKind::kCountMismatch, n - 16);
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0);
  require_error(trailing, TraceErrorKind::kTrailingData, n);
  std::vector<uint8_t> short_end = header_only();
  const size_t at = short_end.size();
  append_record(short_end, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0});
  require_error(short_end, TraceErrorKind::kBadEndRecord, at + 3);
}

TEST_CASE("A trace cut at any byte is rejected", "[trace]") {
  const std::vector<uint8_t> good = sample_bytes();
  REQUIRE(read_trace(good).ok());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    const std::vector<uint8_t> part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    const ReadResult r = read_trace(part);
    INFO("cut at " << cut);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error->offset <= cut);
  }
}

TEST_CASE("Any one flipped bit is rejected", "[trace]") {
  const std::vector<uint8_t> good = sample_bytes();
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> b = good;
      b[i] ^= static_cast<uint8_t>(1u << bit);
      const ReadResult r = read_trace(b);
      INFO("byte " << i << " bit " << bit);
      REQUIRE_FALSE(r.ok());
      if (r.ok()) dump_trace(r.trace);
    }
  }
}
