// Recording and replaying simulation runs: a recorded run replays against
// the same device models without a divergence, a changed device effect is
// found at the exact event with both values, and traces that cannot be
// replayed say why.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "sim/replay.hpp"
#include "sim/scenario.hpp"
#include "sim/trace_pcap.hpp"
#include "traces/trace_dump.hpp"
#include "traces/trace_reader.hpp"

namespace {

using aerov::sim::Outcome;
using aerov::sim::RunOptions;
namespace traces = aerov::traces;

traces::Trace record(const std::string& scenario, uint64_t seed, uint64_t steps) {
  RunOptions o;
  o.scenario = scenario;
  o.seed = seed;
  o.steps = steps;
  // Unique per process: CTest runs test cases in parallel processes.
  o.record = (std::filesystem::temp_directory_path() /
              ("aerov_replay_" + scenario + std::to_string(seed) + "_" +
               std::to_string(::getpid()) + ".trace"))
                 .string();
  const auto r = aerov::sim::run(o);
  REQUIRE(r.outcome == Outcome::kPass);
  traces::ReadResult read = traces::read_trace_file(o.record);
  std::filesystem::remove(o.record);
  INFO((read.error ? read.error->message : ""));
  REQUIRE(read.ok());
  return read.trace;
}

size_t first_of(const traces::Trace& t, traces::EventKind kind, size_t from = 0) {
  for (size_t i = from; i < t.events.size(); ++i) {
    if (t.events[i].event_kind() == kind) return i;
  }
  FAIL("no such event");
  return 0;
}

// Edits a trace's events through their owning form.
template <typename Edit>
void edit(traces::Trace& t, Edit&& change) {
  std::vector<traces::Event> events = t.events.to_events();
  change(events);
  t.events = traces::EventList(events);
}

}  // namespace

TEST_CASE("replay: recorded runs replay without a divergence", "[sim][trace]") {
  for (const auto& scenario : aerov::sim::scenario_names()) {
    for (uint64_t seed : {3u, 43u}) {
      const traces::Trace t = record(scenario, seed, 30);
      INFO(scenario << " seed " << seed);
      CHECK(t.provenance.scenario == scenario);
      CHECK(t.provenance.root_seed == seed);
      const auto r = aerov::sim::replay(t);
      INFO(r.message << "\n" << r.recorded << "\n" << r.replayed);
      CHECK(r.ok);
      CHECK(r.events == t.events.size());
    }
  }
}

TEST_CASE("replay: the same run records the same trace", "[sim][trace]") {
  const traces::Trace a = record("net", 5, 30);
  const traces::Trace b = record("net", 5, 30);
  CHECK(traces::diff_traces(a, b).identical);
}

TEST_CASE("replay: a device effect that differs is reported at its event with both values",
          "[sim][trace]") {
  traces::Trace t = record("blk", 3, 20);
  SECTION("a BAR read value") {
    const size_t i = first_of(t, traces::EventKind::kMmioRead);
    edit(t, [i](auto& ev) { ev[i].fields[4].number ^= 1; });
    const auto r = aerov::sim::replay(t);
    CHECK_FALSE(r.ok);
    CHECK(r.index == i);
    CHECK(r.message.find("BAR read") != std::string::npos);
    CHECK(r.recorded != r.replayed);
  }
  SECTION("a byte the device wrote") {
    const size_t i = first_of(t, traces::EventKind::kDmaWrite);
    edit(t, [i](auto& ev) { ev[i].fields[2].bytes[0] ^= 0x40; });
    const auto r = aerov::sim::replay(t);
    CHECK_FALSE(r.ok);
    CHECK(r.index == i);
    CHECK(r.recorded.find(" dma_write ") != std::string::npos);
    CHECK(r.replayed.find(" dma_write ") != std::string::npos);
  }
  SECTION("an interrupt that did not happen") {
    const size_t i = first_of(t, traces::EventKind::kIntx);
    t.events.erase(i, i + 1);
    const auto r = aerov::sim::replay(t);
    CHECK_FALSE(r.ok);
    CHECK(r.index == i);
    CHECK(r.replayed.find(" intx ") != std::string::npos);
  }
  SECTION("a driver write the device never saw") {
    const size_t i = first_of(t, traces::EventKind::kMemWrite, first_of(t, traces::EventKind::kDoorbell));
    edit(t, [i](auto& ev) { ev[i].fields[1].bytes[0] ^= 0xFF; });
    const auto r = aerov::sim::replay(t);
    CHECK_FALSE(r.ok);
    CHECK(r.index > i);  // found where the device's behaviour first differs
  }
}

TEST_CASE("replay: traces it cannot replay say why", "[sim][trace]") {
  traces::Trace t = record("net", 3, 5);
  SECTION("unknown scenario") {
    t.provenance.scenario = "tape";
    const auto r = aerov::sim::replay(t);
    CHECK_FALSE(r.ok);
    CHECK(r.message.find("tape") != std::string::npos);
  }
  SECTION("configuration without memory ranges") {
    t.provenance.config_json = "{\"steps\":5}";
    CHECK(aerov::sim::replay(t).message.find("config") != std::string::npos);
  }
  SECTION("configuration that is not JSON") {
    t.provenance.config_json = "{";
    CHECK_FALSE(aerov::sim::replay(t).ok);
  }
  SECTION("a range that is not guest RAM") {
    t.provenance.config_json = "{\"ranges\":[[0,18446744073709551615]]}";
    CHECK(aerov::sim::replay(t).message.find("RAM") != std::string::npos);
  }
}

TEST_CASE("trace pcap: a net run's frames, both directions, in a valid capture", "[sim][trace]") {
  const traces::Trace t = record("net", 3, 20);
  uint64_t outputs = 0, inputs = 0;
  for (const auto& e : t.events) {
    outputs += e.event_kind() == traces::EventKind::kHostOutput;
    inputs += e.event_kind() == traces::EventKind::kHostInput && e.u(1) == 0;
  }
  const auto p = aerov::sim::export_pcap(t);
  CHECK(p.sent == outputs);
  CHECK(p.received == inputs);
  CHECK(p.sent >= 20);
  REQUIRE(p.bytes.size() > 24);
  CHECK(p.bytes[0] == 0xd4);  // magic a1b2c3d4, little-endian
  CHECK(p.bytes[3] == 0xa1);
  // Records: 16-byte header + the frame; walk them all.
  size_t at = 24, records = 0;
  uint32_t last_sec = 0, last_usec = 0;
  while (at + 16 <= p.bytes.size()) {
    auto le32 = [&](size_t o) {
      return uint32_t(p.bytes[o]) | uint32_t(p.bytes[o + 1]) << 8 | uint32_t(p.bytes[o + 2]) << 16 |
             uint32_t(p.bytes[o + 3]) << 24;
    };
    const uint32_t sec = le32(at), usec = le32(at + 4), incl = le32(at + 8);
    CHECK((sec > last_sec || (sec == last_sec && usec >= last_usec)));
    last_sec = sec;
    last_usec = usec;
    at += 16 + incl;
    ++records;
  }
  CHECK(at == p.bytes.size());
  CHECK(records == p.sent + p.received);
}

// The corpus trace of a Linux guest driving virtio-blk over vhost-user
// (scripts/record-guest-trace.sh): SeaBIOS activates and resets the device,
// then Linux reads, writes and flushes. It replays on the PCI transport
// without QEMU, and a model that stops serving after a reset is caught.
TEST_CASE("replay: a recorded Linux guest run replays and catches a device dead after reset", "[sim][replay]") {
  traces::ReadResult read =
      traces::read_trace_file(std::string(AEROV_SOURCE_DIR) + "/traces/corpus/linux_blk_vhost_user.trace");
  INFO((read.error ? read.error->message : ""));
  REQUIRE(read.ok());
  traces::Trace t = read.trace;
  const auto clean = aerov::sim::replay(t);
  INFO(clean.message);
  REQUIRE(clean.ok);

  auto cfg = nlohmann::json::parse(t.provenance.config_json);
  REQUIRE(cfg["source"] == "vhost-user");
  cfg["mutant"] = "dead-after-reset";
  t.provenance.config_json = cfg.dump();
  const auto broken = aerov::sim::replay(t);
  CHECK_FALSE(broken.ok);
  CHECK(broken.message.find("divergence at event") == 0);
  INFO(broken.message << " recorded: " << broken.recorded << " replayed: " << broken.replayed);
  CHECK(broken.recorded.find("intx device=0 level=1") != std::string::npos);  // the first request's interrupt
  CHECK(broken.replayed.empty());
}
