#include <exception>
#include <sstream>

#include "aerov/build_info.hpp"
#include "sim/mutants.hpp"
#include "sim/scenarios.hpp"

namespace aerov::sim {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "pass";
    case Outcome::kSafety: return "safety";
    case Outcome::kLiveness: return "liveness";
    case Outcome::kCrash: return "crash";
  }
  return "unknown";
}

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names = {"blk", "net", "input", "snd"};
  return names;
}

const char* build_commit() { return kBuildCommit; }

RunResult run(const RunOptions& o) {
  try {
    if (o.scenario == "blk") return run_blk(o);
    if (o.scenario == "net") return run_net(o);
    if (o.scenario == "input") return run_input(o);
    if (o.scenario == "snd") return run_snd(o);
    RunResult r;
    r.outcome = Outcome::kCrash;
    r.message = "unknown scenario '" + o.scenario + "'";
    return r;
  } catch (const std::exception& e) {
    RunResult r;
    r.outcome = Outcome::kCrash;
    r.message = std::string("exception: ") + e.what();
    return r;
  }
}

std::string repro_command(const RunOptions& o) {
  std::ostringstream s;
  s << "aero-virtio sim --scenario " << o.scenario << " --seed " << o.seed << " --steps "
    << o.steps;
  if (!o.faults) s << " --no-faults";
  if (o.mutant != Mutant::kNone) s << " --mutant " << to_string(o.mutant);
  return s.str();
}

std::string failure_line(const RunOptions& o, const RunResult& r) {
  std::ostringstream s;
  s << "FAIL " << to_string(r.outcome) << " seed=" << o.seed << " scenario=" << o.scenario
    << " commit=" << build_commit() << " faults=[" << r.faults << "] at cycle " << r.cycles
    << ": " << r.message << " | reproduce: " << repro_command(o);
  return s.str();
}

}  // namespace aerov::sim
