// The canonical dump's exact text and the first-divergence diff.
#include <catch2/catch.hpp>

#include "tests/traces/sample_trace.hpp"
#include "traces/trace_dump.hpp"
#include "traces/trace_reader.hpp"

using namespace aerov::traces;
using namespace aerov::traces::testing;

namespace {

Trace read_ok(const std::vector<uint8_t>& bytes) {
  ReadResult r = read_trace(bytes);
  INFO((r.error ? r.error->message : ""));
  REQUIRE(r.ok());
  return std::move(r.trace);
}

}  // namespace

TEST_CASE("Every v1 kind has one stable dump line", "[trace]") {
  const Trace t = read_ok(sample_bytes());
  const std::vector<std::string> expected = {
      "t=10 config_read device=0 offset=0x4 width=2 value=0x6",
      "t=12 config_write device=0 offset=0x4 width=2 value=0x7",
      "t=100 mmio_read device=0 bar=0 offset=0x14 width=1 value=0xf",
      "t=1234 mmio_write device=0 bar=0 offset=0x3000 width=2 value=0x1",
      "t=1234 doorbell device=0 queue=0x0",
      "t=1300 mem_write gpa=0x10000 bytes=deadbeef",
      "t=1400 dma_read device=0 gpa=0x10000 len=0x4 data_hash=0x" +
          [] {
            char buf[24];
            std::snprintf(buf, sizeof buf, "%llx",
                          static_cast<unsigned long long>(
                              fnv1a64(std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef})));
            return std::string(buf);
          }(),
      "t=1500 dma_write device=0 gpa=0x20000 bytes=len:512,head:030a11181f262d34,fnv1a64:" +
          [] {
            char buf[24];
            std::snprintf(buf, sizeof buf, "%016llx",
                          static_cast<unsigned long long>(fnv1a64(pattern(512, 3))));
            return std::string(buf);
          }(),
      "t=1600 intx device=0 level=1",
      "t=1700 msi device=1 address=0xfee00000 data=0x4021",
      "t=1800 host_input device=1 channel=0x0 bytes=len:60,head:01080f161d242b32,fnv1a64:" +
          [] {
            char buf[24];
            std::snprintf(buf, sizeof buf, "%016llx",
                          static_cast<unsigned long long>(fnv1a64(pattern(60, 1))));
            return std::string(buf);
          }(),
      "t=1900 state_hash hash=0x123456789abcdef",
      "t=2000 note text=\"boot \\\"done\\\"\\x0a\"",
      "t=2100 host_output device=1 channel=0x0 bytes=len:60,head:01080f161d242b32,fnv1a64:" +
          [] {
            char buf[24];
            std::snprintf(buf, sizeof buf, "%016llx",
                          static_cast<unsigned long long>(fnv1a64(pattern(60, 1))));
            return std::string(buf);
          }(),
  };
  CHECK(event_lines(t) == expected);
}

TEST_CASE("The dump starts with the provenance and event table", "[trace]") {
  const Trace t = read_ok(sample_bytes());
  const std::string dump = dump_trace(t);
  const std::string head =
      "aerov-trace v2.0\n"
      "seed 0x1352905\n"
      "scenario \"blk-smoke\"\n"
      "commit \"225942e\"\n"
      "config \"{\\\"disk_mib\\\":16,\\\"queues\\\":1}\"\n"
      "device 0 \"virtio-blk\" 00:03.0\n"
      "device 1 \"virtio-net\" 00:04.0\n"
      "kind 1 \"config_read\" \"device\":u8 \"offset\":u16 \"width\":u8 \"value\":u32\n";
  CHECK(dump.substr(0, head.size()) == head);
  CHECK(dump.find("\nt=10 config_read") != std::string::npos);
  const std::string tail = "end events=14 hash=0x";
  CHECK(dump.find(tail) != std::string::npos);
  CHECK(dump.back() == '\n');
  CHECK(dump == dump_trace(read_ok(sample_bytes())));
}

TEST_CASE("Diff of equal traces says identical", "[trace]") {
  const Trace a = read_ok(sample_bytes());
  Provenance other = sample_provenance();
  other.commit = "deadbee";
  const Trace b = read_ok(write_trace(other, every_kind()));
  const TraceDiff d = diff_traces(a, b);
  CHECK(d.identical);
  CHECK(d.provenance_differs);
  CHECK(d.report() ==
        "note: provenance differs (seed, scenario, commit, config or devices)\n"
        "identical (14 events)\n");
}

TEST_CASE("Diff names the first divergent event", "[trace]") {
  std::vector<Event> events = every_kind();
  const Trace a = read_ok(write_trace(sample_provenance(), events));
  events[9] = make::msi(1700, 1, 0xfee00000, 0x4022);
  events[11] = make::state_hash(1900, 1);
  const Trace b = read_ok(write_trace(sample_provenance(), events));
  const TraceDiff d = diff_traces(a, b);
  REQUIRE_FALSE(d.identical);
  CHECK(d.index == 9);
  CHECK(d.time_a == 1700u);
  CHECK(d.time_b == 1700u);
  CHECK(d.line_a == "t=1700 msi device=1 address=0xfee00000 data=0x4021");
  CHECK(d.line_b == "t=1700 msi device=1 address=0xfee00000 data=0x4022");
  CHECK(d.report() ==
        "first divergence at event 9 (t=1700)\n"
        "  a: t=1700 msi device=1 address=0xfee00000 data=0x4021\n"
        "  b: t=1700 msi device=1 address=0xfee00000 data=0x4022\n");
}

TEST_CASE("Diff of a trace and its prefix points past the shorter one", "[trace]") {
  std::vector<Event> events = every_kind();
  const Trace a = read_ok(write_trace(sample_provenance(), events));
  events.resize(5);
  const Trace b = read_ok(write_trace(sample_provenance(), events));
  const TraceDiff d = diff_traces(a, b);
  REQUIRE_FALSE(d.identical);
  CHECK(d.index == 5);
  CHECK(d.time_a == 1300u);
  CHECK_FALSE(d.time_b.has_value());
  CHECK(d.line_b == "(end of trace)");
  // Time alone differing is a divergence too.
  std::vector<Event> later = every_kind();
  later[2].time_cycles = 101;
  const TraceDiff t = diff_traces(a, read_ok(write_trace(sample_provenance(), later)));
  CHECK(t.index == 2);
  CHECK(t.time_b == 101u);
}
