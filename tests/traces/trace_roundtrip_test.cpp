// Writer/reader round trip, deterministic bytes and unknown kinds.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "tests/traces/sample_trace.hpp"
#include "traces/trace_dump.hpp"
#include "traces/trace_reader.hpp"

using namespace aerov::traces;
using namespace aerov::traces::testing;

TEST_CASE("Every v1 kind survives a write and read", "[trace]") {
  const std::vector<Event> events = every_kind();
  REQUIRE(events.size() == v1_event_table().size());
  const ReadResult r = read_trace(sample_bytes());
  INFO((r.error ? r.error->message : ""));
  REQUIRE(r.ok());
  CHECK(r.trace.version_major == kVersionMajor);
  CHECK(r.trace.version_minor == kVersionMinor);
  CHECK(r.trace.provenance == sample_provenance());
  CHECK(r.trace.table == v1_event_table());
  REQUIRE(r.trace.events.size() == events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    INFO("event " << i);
    CHECK(r.trace.events[i] == events[i]);
    CHECK(matches(r.trace.events[i], *find_v1_kind(events[i].kind)));
  }
}

TEST_CASE("Typed accessors read the fields the constructors wrote", "[trace]") {
  const std::vector<Event> events = every_kind();
  const Event& mmio = events[3];
  CHECK(mmio.event_kind() == EventKind::kMmioWrite);
  CHECK(mmio.u(2) == 0x3000);
  CHECK(mmio.u(4) == 0x1);
  const Event& dma = events[6];
  CHECK(dma.u(2) == 4);
  CHECK(dma.u(3) == fnv1a64(std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef}));
  CHECK(events[12].text(0) == "boot \"done\"\n");
  CHECK_THROWS_AS(mmio.data(0), std::out_of_range);
  CHECK_THROWS_AS(events[12].u(0), std::out_of_range);
}

TEST_CASE("Same events give the same bytes", "[trace]") {
  const std::vector<uint8_t> a = sample_bytes();
  const std::vector<uint8_t> b = sample_bytes();
  CHECK(a == b);
  // Pins the encoding: a change here is a format change (see docs/trace-format.md).
  CHECK(std::vector<uint8_t>(a.begin(), a.begin() + 12) ==
        std::vector<uint8_t>{'A', 'E', 'R', 'O', 'V', 'T', 'R', 'C', 2, 0, 0, 0});
  CHECK(a.size() == 1670);
  CHECK(fnv1a64(a) == 0xadc5d2409818fb23ull);
  // The end record's hash is XXH3-64 of the bytes before it.
  const std::span<const uint8_t> body(a.data(), a.size() - (2 + 1 + 4 + 16));  // before the end record
  uint64_t stored = 0;
  for (int i = 0; i < 8; ++i) stored |= uint64_t{a[a.size() - 8 + i]} << (8 * i);
  CHECK(stored == FileHash::of(2, body));
  CHECK(FileHash::of(2, std::vector<uint8_t>{'a', 'b', 'c'}) == 0x78af5f94892f3950ull);  // XXH3-64 of "abc", seed 0
}

TEST_CASE("A file trace equals the in-memory trace", "[trace]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("aerov_trace_roundtrip_" + std::to_string(::getpid()) + ".trace")).string();
  {
    TraceWriter w(path, sample_provenance());
    for (const Event& e : every_kind()) w.write(e);
    w.finish();
  }
  const ReadResult r = read_trace_file(path);
  std::remove(path.c_str());
  REQUIRE(r.ok());
  CHECK(r.trace.events == every_kind());
  const ReadResult missing = read_trace_file(path);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error->kind == TraceErrorKind::kIo);
}

TEST_CASE("The writer refuses events its table does not describe", "[trace]") {
  std::vector<uint8_t> out;
  TraceWriter w(out, sample_provenance());
  Event bad = make::doorbell(5, 0, 1);
  bad.fields.pop_back();
  CHECK_THROWS_AS(w.write(bad), std::invalid_argument);
  Event unknown = make::doorbell(5, 0, 1);
  unknown.kind = 999;
  CHECK_THROWS_AS(w.write(unknown), std::invalid_argument);
  Event too_big = make::intx(5, 0, 1);
  too_big.fields[1].number = 256;
  CHECK_THROWS_AS(w.write(too_big), std::invalid_argument);
  w.write(make::intx(10, 0, 1));
  CHECK_THROWS_AS(w.write(make::intx(9, 0, 0)), std::invalid_argument);
  w.finish();
  CHECK_THROWS_AS(w.write(make::intx(11, 0, 0)), std::logic_error);
  CHECK(read_trace(out).ok());
}

TEST_CASE("The writer says when a state hash is due", "[trace]") {
  std::vector<uint8_t> out;
  TraceWriter w(out, sample_provenance());
  for (int i = 0; i < 3; ++i) w.write(make::doorbell(i, 0, 0));
  CHECK_FALSE(w.state_hash_due(4));
  w.write(make::doorbell(3, 0, 0));
  CHECK(w.state_hash_due(4));
  w.write(make::state_hash(3, 42));
  CHECK_FALSE(w.state_hash_due(4));
  CHECK(w.event_count() == 5);
}

TEST_CASE("A kind unknown to v1 is skippable and dumps from the event table", "[trace]") {
  std::vector<KindSpec> table = v1_event_table();
  table.push_back({200, "vendor_blob", {{"lane", FieldType::kU16}, {"blob", FieldType::kBytes}}});
  Event vendor;
  vendor.kind = 200;
  vendor.time_cycles = 50;
  vendor.fields = {FieldValue{FieldType::kU16, 7, {}}, FieldValue{FieldType::kBytes, 0, {1, 2}}};
  const std::vector<uint8_t> bytes = write_trace(
      sample_provenance(), {make::doorbell(40, 0, 0), vendor, make::intx(60, 0, 1)}, table);
  const ReadResult r = read_trace(bytes);
  REQUIRE(r.ok());
  REQUIRE(r.trace.events.size() == 3);
  CHECK(find_v1_kind(r.trace.events[1].kind) == nullptr);  // a v1 consumer skips it
  CHECK(r.trace.events[2] == make::intx(60, 0, 1));        // and carries on
  const std::vector<std::string> lines = event_lines(r.trace);
  CHECK(lines[1] == "t=50 vendor_blob lane=0x7 blob=0102");
  CHECK(dump_trace(r.trace).find("kind 200 \"vendor_blob\" \"lane\":u16 \"blob\":bytes\n") !=
        std::string::npos);
}

TEST_CASE("A record whose kind the table lacks is kept raw", "[trace]") {
  // Header of an empty trace, one hand-made record of kind 300, then a valid end.
  std::vector<uint8_t> bytes = write_trace(sample_provenance(), {});
  bytes.resize(bytes.size() - 23);
  put_u16(bytes, 300);
  put_varint(bytes, 9);
  put_u32(bytes, 3);
  bytes.insert(bytes.end(), {0xaa, 0xbb, 0xcc});
  const uint64_t hash = FileHash::of(kVersionMajor, bytes);
  put_u16(bytes, 0);
  put_varint(bytes, 0);
  put_u32(bytes, 16);
  put_u64(bytes, 1);
  put_u64(bytes, hash);
  const ReadResult r = read_trace(bytes);
  INFO((r.error ? r.error->message : ""));
  REQUIRE(r.ok());
  REQUIRE(r.trace.events.size() == 1);
  CHECK(r.trace.events[0].undescribed);
  const auto raw = r.trace.events[0].raw();
  CHECK(std::vector<uint8_t>(raw.begin(), raw.end()) == std::vector<uint8_t>{0xaa, 0xbb, 0xcc});
  CHECK(event_lines(r.trace)[0] == "t=9 kind300 raw=aabbcc");
}

TEST_CASE("Varints use the one minimal LEB128 encoding", "[trace]") {
  for (uint64_t v : std::vector<uint64_t>{0, 1, 127, 128, 300, 1ull << 35, UINT64_MAX}) {
    std::vector<uint8_t> b;
    put_varint(b, v);
    uint64_t back = 0;
    size_t used = 0;
    REQUIRE(get_varint(b.data(), b.data() + b.size(), &back, &used) == VarintStatus::kOk);
    CHECK(back == v);
    CHECK(used == b.size());
    CHECK(get_varint(b.data(), b.data() + b.size() - 1, &back, &used) == VarintStatus::kTruncated);
  }
  uint64_t v = 0;
  size_t used = 0;
  const uint8_t padded[] = {0x81, 0x00};
  CHECK(get_varint(padded, padded + 2, &v, &used) == VarintStatus::kBad);
  const uint8_t too_big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
  CHECK(get_varint(too_big, too_big + 10, &v, &used) == VarintStatus::kBad);
  const uint8_t too_long[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  CHECK(get_varint(too_long, too_long + 11, &v, &used) == VarintStatus::kBad);
}

TEST_CASE("A file trace larger than the write chunk reads back whole", "[trace]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("aerov_trace_large_" + std::to_string(::getpid()) + ".trace")).string();
  std::vector<Event> events;
  for (uint64_t i = 0; i < 64; ++i) {
    events.push_back(make::dma_write(i * 100, 0, 0x100000 + i * 4096, pattern(4096, uint8_t(i))));
    events.push_back(make::dma_read_of(i * 100 + 50, 0, 0x100000 + i * 4096, pattern(4096, uint8_t(i))));
  }
  {
    TraceWriter w(path, sample_provenance());
    for (const Event& e : events) w.write(e);
    w.finish();
  }
  const ReadResult r = read_trace_file(path);
  std::remove(path.c_str());
  INFO((r.error ? r.error->message : ""));
  REQUIRE(r.ok());
  CHECK(r.trace.events == events);
  CHECK(write_trace(sample_provenance(), events).size() > 256 * 1024);
}

TEST_CASE("A writer that never finishes leaves a trace readers reject", "[trace]") {
  std::vector<uint8_t> out;
  {
    TraceWriter w(out, sample_provenance());
    w.write(make::doorbell(1, 0, 0));
  }
  const ReadResult r = read_trace(out);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error->kind == TraceErrorKind::kMissingEnd);
  CHECK(r.error->offset == out.size());
}
