// The simulation's faults bite: a deliberately broken device, driver glue
// or net peer (sim/mutants.hpp) is caught by some seed of a bounded sweep, by the
// oracle that should catch it, and only because the matching fault fires
// (with faults off the same seeds pass).
#include <catch2/catch.hpp>

#include "sim/mutants.hpp"
#include "sim/scenario.hpp"

namespace {

using aerov::sim::Mutant;
using aerov::sim::Outcome;
using aerov::sim::RunOptions;
using aerov::sim::RunResult;

struct Sweep {
  uint64_t failing_seed = 0;
  RunResult result;
  bool found = false;
};

// The first failing seed, skipping those whose fault mix includes `without`
// (a fault kind that could also expose the mutant).
Sweep sweep(const std::string& scenario, Mutant mutant, bool faults, uint64_t seeds,
            const std::string& without = "") {
  Sweep s;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    RunOptions o;
    o.scenario = scenario;
    o.seed = seed;
    o.steps = 300;
    o.faults = faults;
    o.mutant = mutant;
    const RunResult r = aerov::sim::run(o);
    if (r.outcome != Outcome::kPass &&
        (without.empty() || r.faults.find(without) == std::string::npos)) {
      s.failing_seed = seed;
      s.result = r;
      s.found = true;
      return s;
    }
  }
  return s;
}

}  // namespace

TEST_CASE("mutants: a device that hides backend errors is caught (backend_io_error)",
          "[sim][BLK-5]") {
  const Sweep s = sweep("blk", Mutant::kDiskHidesErrors, true, 40);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kSafety);
  CHECK(s.result.faults.find("backend_io_error") != std::string::npos);
  CHECK_FALSE(sweep("blk", Mutant::kDiskHidesErrors, false, 20).found);
}

TEST_CASE("mutants: a device that is dead after a reset is caught (needs_reset)",
          "[sim][STAT-4]") {
  for (const std::string scenario : {"blk", "net"}) {
    const Sweep s = sweep(scenario, Mutant::kDeadAfterReset, true, 40);
    INFO(scenario);
    REQUIRE(s.found);
    INFO("seed " << s.failing_seed << ": " << s.result.message);
    CHECK(s.result.outcome == Outcome::kLiveness);
    CHECK(s.result.faults.find("needs_reset") != std::string::npos);
    CHECK_FALSE(sweep(scenario, Mutant::kDeadAfterReset, false, 20).found);
  }
}

TEST_CASE("mutants: names round-trip and the repro line carries the mutant", "[sim]") {
  for (const auto& name : aerov::sim::mutant_names()) {
    Mutant m{};
    REQUIRE(aerov::sim::parse_mutant(name, &m));
    CHECK(aerov::sim::to_string(m) == name);
  }
  Mutant m{};
  CHECK_FALSE(aerov::sim::parse_mutant("bogus", &m));
  RunOptions o;
  o.mutant = Mutant::kDeadAfterReset;
  CHECK(aerov::sim::repro_command(o).find("--mutant dead-after-reset") != std::string::npos);
}

TEST_CASE("mutants: a device that assumes its backend completes in order is caught "
          "(backend_latency)",
          "[sim][BLK-5]") {
  // The disk's base latency (0..3 polls) already reorders completions; the
  // latency fault makes it worse. So this one is caught with faults off too.
  const Sweep s = sweep("blk", Mutant::kAssumesFifoBackend, true, 20);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kSafety);
  CHECK(s.result.message.find("wrong data") != std::string::npos);
}

TEST_CASE("mutants: a device that takes an empty doorbell for a broken ring is caught "
          "(spurious_doorbell)",
          "[sim][NTF-3]") {
  // net: the driver only kicks after posting buffers, so only the injected
  // spurious doorbells reach the device with nothing new. (blk's folded
  // doorbells already produce empty kicks without faults.)
  const Sweep s = sweep("net", Mutant::kEmptyKickIsError, true, 60);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kSafety);
  CHECK(s.result.faults.find("spurious_doorbell") != std::string::npos);
  CHECK(s.result.message.find("reset the device") != std::string::npos);
  CHECK_FALSE(sweep("net", Mutant::kEmptyKickIsError, false, 20).found);
}

TEST_CASE("mutants: a device that keeps requests across a driver reset is caught (driver_reset)",
          "[sim][STAT-2]") {
  const Sweep s = sweep("blk", Mutant::kKeepsRequestsAcrossReset, true, 80);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kSafety);
  CHECK(s.result.faults.find("driver_reset") != std::string::npos);
  CHECK_FALSE(sweep("blk", Mutant::kKeepsRequestsAcrossReset, false, 20).found);
}

TEST_CASE("mutants: a glue that takes a disowned interrupt for a removal is caught "
          "(spurious_irq)",
          "[sim][DRV-2]") {
  // A spurious interrupt reaches the core with nothing of its device
  // pending (ISR 0, or a message covering nothing). So can a real one whose
  // cause a reset cleared first: seeds with needs_reset do not count.
  const Sweep s = sweep("input", Mutant::kForeignIrqMeansRemoved, true, 40, "needs_reset");
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kLiveness);
  CHECK(s.result.faults.find("spurious_irq") != std::string::npos);
  CHECK_FALSE(sweep("input", Mutant::kForeignIrqMeansRemoved, false, 20).found);
}

TEST_CASE("mutants: a glue that drops received frames beyond a fixed batch is caught "
          "(irq_delay)",
          "[sim][NET-7]") {
  // Only a late interrupt finds more than DriverGlue::kRxBatch frames
  // (coalescing delays it too, but not that much: those seeds do not count).
  const Sweep s = sweep("net", Mutant::kRxBatchOverflow, true, 40, "irq_coalesce");
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kLiveness);
  CHECK(s.result.faults.find("irq_delay") != std::string::npos);
  CHECK(s.result.message.find("frames lost without a count") != std::string::npos);
  CHECK_FALSE(sweep("net", Mutant::kRxBatchOverflow, false, 20).found);
}

TEST_CASE("mutants: a glue that forgets send completions beyond a fixed batch is caught "
          "(irq_coalesce)",
          "[sim][NET-6]") {
  // A late interrupt exposes it as well: seeds with irq_delay do not count.
  const Sweep s = sweep("net", Mutant::kCompletionBatchOverflow, true, 40, "irq_delay");
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kLiveness);
  CHECK(s.result.faults.find("irq_coalesce") != std::string::npos);
  CHECK(s.result.message.find("frames outstanding") != std::string::npos);
  CHECK_FALSE(sweep("net", Mutant::kCompletionBatchOverflow, false, 20).found);
}

TEST_CASE("mutants: a peer whose ring leaks a buffer on its drop path is caught (peer_loss)",
          "[sim][NET-7]") {
  const Sweep s = sweep("net", Mutant::kPeerRingLeaksOnDrop, true, 40);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kLiveness);
  CHECK(s.result.faults.find("peer_loss") != std::string::npos);
  CHECK(s.result.message.find("at the peer") != std::string::npos);
  CHECK_FALSE(sweep("net", Mutant::kPeerRingLeaksOnDrop, false, 20).found);
}

TEST_CASE("mutants: a peer that reuses ring buffers before their frame went out is caught "
          "(peer_reorder)",
          "[sim][NET-7]") {
  // Without faults every echo goes out long before the ring comes round.
  const Sweep s = sweep("net", Mutant::kPeerRingIgnoresOwnership, true, 40);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kSafety);
  CHECK(s.result.faults.find("peer_reorder") != std::string::npos);
  CHECK_FALSE(sweep("net", Mutant::kPeerRingIgnoresOwnership, false, 20).found);
}
