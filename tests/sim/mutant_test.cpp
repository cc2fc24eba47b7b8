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

// What a mutant test expects: with faults on, some seed of the first
// `seeds` (ignoring those whose mix has `without`) fails as `outcome`, with
// `fault` among the seed's faults and `message` (if given) in the failure;
// with faults off the first 20 seeds pass.
struct Caught {
  std::string scenario;
  Mutant mutant;
  uint64_t seeds;
  Outcome outcome;
  std::string fault;
  std::string message = "";
  std::string without = "";
};

void expect_caught(const Caught& c) {
  INFO(c.scenario << " --mutant " << aerov::sim::to_string(c.mutant));
  const Sweep s = sweep(c.scenario, c.mutant, true, c.seeds, c.without);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == c.outcome);
  CHECK(s.result.faults.find(c.fault) != std::string::npos);
  CHECK(s.result.message.find(c.message) != std::string::npos);
  CHECK_FALSE(sweep(c.scenario, c.mutant, false, 20).found);
}

// A mutant that no one fault kind brings out: some seed of the first
// `seeds` (faults on or off as given) fails as a safety failure whose
// message has `message`.
void expect_safety_failure(Mutant mutant, bool faults, uint64_t seeds, const std::string& message) {
  const Sweep s = sweep("blk", mutant, faults, seeds);
  REQUIRE(s.found);
  INFO("seed " << s.failing_seed << ": " << s.result.message);
  CHECK(s.result.outcome == Outcome::kSafety);
  CHECK(s.result.message.find(message) != std::string::npos);
}

}  // namespace

TEST_CASE("mutants: a device that hides backend errors is caught (backend_io_error)",
          "[sim][BLK-5]") {
  expect_caught({.scenario = "blk", .mutant = Mutant::kDiskHidesErrors, .seeds = 40,
                 .outcome = Outcome::kSafety, .fault = "backend_io_error"});
}

TEST_CASE("mutants: a device that is dead after a reset is caught (needs_reset)",
          "[sim][STAT-4]") {
  for (const std::string scenario : {"blk", "net"}) {
    expect_caught({.scenario = scenario, .mutant = Mutant::kDeadAfterReset, .seeds = 40,
                   .outcome = Outcome::kLiveness, .fault = "needs_reset"});
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
  expect_safety_failure(Mutant::kAssumesFifoBackend, true, 20, "wrong data");
}

TEST_CASE("mutants: a device whose reads leave their last byte unwritten is caught (read oracle)",
          "[sim][BLK-5]") {
  // The scenario poisons only the sectors whose buffer already holds what
  // the read should return; the stale bytes elsewhere must catch this too.
  expect_safety_failure(Mutant::kReadLeavesAByte, false, 20, "wrong data");
}

TEST_CASE("mutants: a device that takes an empty doorbell for a broken ring is caught "
          "(spurious_doorbell)",
          "[sim][NTF-3]") {
  // net: the driver only kicks after posting buffers, so only the injected
  // spurious doorbells reach the device with nothing new. (blk's folded
  // doorbells already produce empty kicks without faults.)
  expect_caught({.scenario = "net", .mutant = Mutant::kEmptyKickIsError, .seeds = 60,
                 .outcome = Outcome::kSafety, .fault = "spurious_doorbell",
                 .message = "reset the device"});
}

TEST_CASE("mutants: a device that keeps requests across a driver reset is caught (driver_reset)",
          "[sim][STAT-2]") {
  expect_caught({.scenario = "blk", .mutant = Mutant::kKeepsRequestsAcrossReset, .seeds = 80,
                 .outcome = Outcome::kSafety, .fault = "driver_reset"});
}

TEST_CASE("mutants: a glue that takes a disowned interrupt for a removal is caught "
          "(spurious_irq)",
          "[sim][DRV-2]") {
  // A spurious interrupt reaches the core with nothing of its device
  // pending (ISR 0, or a message covering nothing). So can a real one whose
  // cause a reset cleared first: seeds with needs_reset do not count.
  expect_caught({.scenario = "input", .mutant = Mutant::kForeignIrqMeansRemoved, .seeds = 40,
                 .outcome = Outcome::kLiveness, .fault = "spurious_irq", .without = "needs_reset"});
}

TEST_CASE("mutants: a glue that drops received frames beyond a fixed batch is caught "
          "(irq_delay)",
          "[sim][NET-7]") {
  // Only a late interrupt finds more than DriverGlue::kRxBatch frames
  // (coalescing delays it too, but not that much: those seeds do not count).
  expect_caught({.scenario = "net", .mutant = Mutant::kRxBatchOverflow, .seeds = 40,
                 .outcome = Outcome::kLiveness, .fault = "irq_delay",
                 .message = "frames lost without a count", .without = "irq_coalesce"});
}

TEST_CASE("mutants: a glue that forgets send completions beyond a fixed batch is caught "
          "(irq_coalesce)",
          "[sim][NET-6]") {
  // A late interrupt exposes it as well: seeds with irq_delay do not count.
  expect_caught({.scenario = "net", .mutant = Mutant::kCompletionBatchOverflow, .seeds = 40,
                 .outcome = Outcome::kLiveness, .fault = "irq_coalesce",
                 .message = "frames outstanding", .without = "irq_delay"});
}

TEST_CASE("mutants: a peer whose ring leaks a buffer on its drop path is caught (peer_loss)",
          "[sim][NET-7]") {
  expect_caught({.scenario = "net", .mutant = Mutant::kPeerRingLeaksOnDrop, .seeds = 40,
                 .outcome = Outcome::kLiveness, .fault = "peer_loss",
                 .message = "at the peer"});
}

TEST_CASE("mutants: a peer that reuses ring buffers before their frame went out is caught "
          "(peer_reorder)",
          "[sim][NET-7]") {
  // Without faults every echo goes out long before the ring comes round.
  expect_caught({.scenario = "net", .mutant = Mutant::kPeerRingIgnoresOwnership, .seeds = 40,
                 .outcome = Outcome::kSafety, .fault = "peer_reorder"});
}
