// sim/: the deterministic machine's scenarios. Each seed is reproducible
// (same hashes twice), seeds explore different runs, and a sweep of seeds
// passes its oracles. Failures print the line that reproduces them.
#include <catch2/catch.hpp>
#include <set>

#include "sim/scenario.hpp"

namespace {

using aerov::sim::Outcome;
using aerov::sim::RunOptions;
using aerov::sim::RunResult;

RunResult run(const std::string& scenario, uint64_t seed, uint64_t steps = 300) {
  RunOptions o;
  o.scenario = scenario;
  o.seed = seed;
  o.steps = steps;
  return aerov::sim::run(o);
}

}  // namespace

TEST_CASE("sim: a seed run twice gives the same state and trace hashes", "[sim]") {
  for (const auto& scenario : aerov::sim::scenario_names()) {
    for (uint64_t seed : {1u, 17u, 4242u}) {
      const RunResult a = run(scenario, seed);
      const RunResult b = run(scenario, seed);
      INFO(scenario << " seed " << seed);
      CHECK(a.outcome == Outcome::kPass);
      CHECK(a.state_hash == b.state_hash);
      CHECK(a.trace_hash == b.trace_hash);
      CHECK(a.events == b.events);
      CHECK(a.cycles == b.cycles);
    }
  }
}

TEST_CASE("sim: different seeds explore different runs", "[sim]") {
  for (const auto& scenario : aerov::sim::scenario_names()) {
    std::set<uint64_t> traces;
    std::set<std::string> mixes;
    for (uint64_t seed = 0; seed < 12; ++seed) {
      const RunResult r = run(scenario, seed, 100);
      traces.insert(r.trace_hash);
      mixes.insert(r.faults);
    }
    INFO(scenario);
    CHECK(traces.size() == 12);
    CHECK(mixes.size() >= 10);
  }
}

TEST_CASE("sim: without faults the fault mix is drawn but never fires", "[sim]") {
  RunOptions o;
  o.scenario = "blk";
  o.seed = 3;  // a seed whose mix includes needs_reset and irq_delay
  o.steps = 300;
  o.faults = false;
  const RunResult quiet = aerov::sim::run(o);
  o.faults = true;
  const RunResult noisy = aerov::sim::run(o);
  CHECK(quiet.outcome == Outcome::kPass);
  CHECK(quiet.faults == noisy.faults);
  CHECK(quiet.trace_hash != noisy.trace_hash);
}

TEST_CASE("sim: seed sweeps pass every oracle", "[sim][STAT-4][VQ-9][BLK-5][NET-6][NET-7]") {
  for (const auto& scenario : aerov::sim::scenario_names()) {
    for (uint64_t seed = 100; seed < 130; ++seed) {
      RunOptions o;
      o.scenario = scenario;
      o.seed = seed;
      o.steps = 400;
      const RunResult r = aerov::sim::run(o);
      if (r.outcome != Outcome::kPass) FAIL(aerov::sim::failure_line(o, r));
    }
  }
}

TEST_CASE("sim: an unknown scenario is a crash-class result naming it", "[sim]") {
  const RunResult r = run("tape", 1);
  CHECK(r.outcome == Outcome::kCrash);
  CHECK(r.message.find("tape") != std::string::npos);
}

TEST_CASE("sim: the failure line names class, seed, scenario, commit and the command", "[sim]") {
  RunOptions o;
  o.scenario = "net";
  o.seed = 99;
  o.steps = 123;
  RunResult r;
  r.outcome = Outcome::kLiveness;
  r.message = "3 frames outstanding";
  r.faults = "irq_delay=10ppm";
  const std::string line = aerov::sim::failure_line(o, r);
  CHECK(line.find("FAIL liveness seed=99 scenario=net commit=") == 0);
  CHECK(line.find(aerov::sim::build_commit()) != std::string::npos);
  CHECK(line.find("3 frames outstanding") != std::string::npos);
  CHECK(line.find("reproduce: aero-virtio sim --scenario net --seed 99 --steps 123") !=
        std::string::npos);
}
