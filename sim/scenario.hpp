// Simulation scenarios: a workload, its oracles and the faults it survives,
// run on a SimMachine from one seed (issue: deterministic simulation).
//
// A run has two phases. In the fault phase the workload issues `steps`
// operations while the seed's fault mix fires, and the oracles check every
// completion (safety). Then faults stop and every outstanding operation must
// complete within a bounded number of cycles (liveness). The outcome is one
// of four classes, each with its own exit code, and a failure names the one
// command that reproduces it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aerov::sim {

enum class Mutant : uint8_t;  // sim/mutants.hpp: broken variants for tests

enum class Outcome : uint8_t {
  kPass = 0,
  kSafety,    // an oracle saw forbidden behaviour
  kLiveness,  // work did not finish once faults stopped
  kCrash,     // an exception escaped the scenario (a model or core bug)
};

// `aero-virtio sim` exits with the class's value: 0 pass, 1 safety,
// 2 liveness, 3 crash (bad arguments get CLI11's codes, above 100).
const char* to_string(Outcome o);

struct RunOptions {
  std::string scenario = "blk";
  uint64_t seed = 0;
  uint64_t steps = 2000;    // workload operations in the fault phase
  bool faults = true;       // false: the seed's fault mix is drawn but never fires
  std::string record;       // write the run's trace to this file (empty: none)
  Mutant mutant{};          // a broken device, driver glue or peer (tests)
};

struct RunResult {
  Outcome outcome = Outcome::kPass;
  std::string message;      // the first failure, empty on a pass
  std::string faults;       // the seed's fault mix (FaultPlan::describe)
  uint64_t state_hash = 0;  // final state (disk, counters, ...)
  uint64_t trace_hash = 0;  // every event that ran, with its time
  uint64_t events = 0;
  uint64_t cycles = 0;
  uint64_t operations = 0;  // workload operations completed
  // Workload data the device moved: blk sectors read and written, net
  // frames sent and received (0 for the other scenarios).
  uint64_t payload_bytes = 0;
};

// The scenarios there are: "blk", "net".
const std::vector<std::string>& scenario_names();

// Runs one seed; never throws (a throw is a kCrash result).
RunResult run(const RunOptions& options);

// "aero-virtio sim --scenario blk --seed 7 --steps 2000"
std::string repro_command(const RunOptions& options);
// The one line printed for a failure: class, seed, scenario, commit,
// message and the reproducing command.
std::string failure_line(const RunOptions& options, const RunResult& result);

// The commit the binary was built from (git describe at build time).
const char* build_commit();

}  // namespace aerov::sim
