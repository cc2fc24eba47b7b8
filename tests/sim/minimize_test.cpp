// trace minimize: a trace whose replay diverges (recorded against a broken
// device variant, replayed against the real one) is cut to a 1-minimal set
// of driver actions that still diverge with the same cause at the same
// recorded event.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "sim/mutants.hpp"
#include "sim/replay.hpp"
#include "sim/scenario.hpp"
#include "sim/trace_minimize.hpp"
#include "traces/trace_reader.hpp"
#include "traces/trace_writer.hpp"

namespace {

namespace traces = aerov::traces;
using traces::EventKind;

traces::Trace record(const std::string& scenario, uint64_t seed, uint64_t steps,
                     aerov::sim::Mutant mutant) {
  aerov::sim::RunOptions o;
  o.scenario = scenario;
  o.seed = seed;
  o.steps = steps;
  o.mutant = mutant;
  o.record = (std::filesystem::temp_directory_path() /
              ("aerov_minimize_" + scenario + "_" + std::to_string(::getpid()) + ".trace"))
                 .string();
  aerov::sim::run(o);
  traces::ReadResult read = traces::read_trace_file(o.record);
  std::filesystem::remove(o.record);
  REQUIRE(read.ok());
  return read.trace;
}

// The same trace, replayed as if recorded against the real device.
traces::Trace without_mutant(traces::Trace t) {
  nlohmann::json cfg = nlohmann::json::parse(t.provenance.config_json);
  cfg.erase("mutant");
  t.provenance.config_json = cfg.dump();
  return t;
}

std::string cause(const aerov::sim::ReplayResult& r) { return r.message.substr(r.message.find(": ") + 2); }

bool is_effect(EventKind k) {
  return k == EventKind::kDmaWrite || k == EventKind::kIntx || k == EventKind::kMsi ||
         k == EventKind::kHostOutput;
}

}  // namespace

TEST_CASE("trace minimize keeps the divergence and is 1-minimal", "[sim][trace]") {
  // Seed 3 of net resets the device mid-run (faults on); the dead-after-reset
  // variant stops serving after it, the real device keeps going.
  const traces::Trace full = without_mutant(
      record("net", 3, 60, aerov::sim::Mutant::kDeadAfterReset));
  const auto original = aerov::sim::replay(full);
  REQUIRE_FALSE(original.ok);
  REQUIRE_FALSE(original.recorded.empty());

  const auto m = aerov::sim::minimize(full);
  INFO(m.message);
  REQUIRE(m.ok);
  CHECK_FALSE(m.budget_exhausted);
  CHECK(m.actions_after > 0);
  CHECK(m.actions_after * 4 < m.actions_before);

  // Same cause at the same recorded event.
  const auto again = aerov::sim::replay(m.trace);
  REQUIRE_FALSE(again.ok);
  CHECK(cause(again) == cause(original));
  CHECK(again.recorded == original.recorded);

  // 1-minimal: without any one remaining driver action (and its effects)
  // the replay no longer diverges that way.
  const auto& ev = m.trace.events;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    if (is_effect(ev[i].event_kind())) continue;
    traces::Trace cut = m.trace;
    size_t end = i + 1;
    while (end + 1 < ev.size() && is_effect(ev[end].event_kind())) ++end;
    cut.events.erase(i, end);
    const auto r = aerov::sim::replay(cut);
    INFO("without event " << i);
    CHECK((r.ok || cause(r) != cause(original) || r.recorded != original.recorded));
  }

  // The result is a valid trace file.
  const auto bytes = traces::write_trace(m.trace.provenance, m.trace.events.to_events(), m.trace.table);
  const auto read = traces::read_trace(bytes);
  REQUIRE(read.ok());
  CHECK(read.trace.events == m.trace.events);
}

TEST_CASE("trace minimize refuses a trace that replays cleanly", "[sim][trace]") {
  const traces::Trace clean = record("blk", 43, 12, aerov::sim::Mutant::kNone);
  const auto m = aerov::sim::minimize(clean);
  CHECK_FALSE(m.ok);
  CHECK(m.message.find("without divergence") != std::string::npos);
}
