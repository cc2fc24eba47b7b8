#include "cli/sim_command.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "sim/mutants.hpp"
#include "sim/replay.hpp"
#include "sim/scenario.hpp"
#include "sim/trace_minimize.hpp"
#include "sim/trace_pcap.hpp"
#include "traces/trace_writer.hpp"
#include "traces/trace_reader.hpp"

namespace aerov::cli {

namespace {

struct SimArgs {
  std::string scenario = "blk";
  uint64_t seed = 0;
  std::string seeds;  // "a..b"
  uint64_t steps = 2000;
  bool no_faults = false;
  bool determinism = false;
  std::string record;
  std::string mutant = "none";
};

// "a..b" (inclusive) -> [a, b]
bool parse_range(const std::string& text, uint64_t* a, uint64_t* b) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) return false;
  try {
    size_t used = 0;
    *a = std::stoull(text.substr(0, dots), &used);
    if (used != dots) return false;
    const std::string hi = text.substr(dots + 2);
    *b = std::stoull(hi, &used);
    return used == hi.size() && *a <= *b;
  } catch (const std::exception&) {
    return false;
  }
}

std::string hex(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string summary(const sim::RunOptions& o, const sim::RunResult& r) {
  return std::string(sim::to_string(r.outcome)) + " scenario=" + o.scenario +
         " seed=" + std::to_string(o.seed) + " steps=" + std::to_string(o.steps) +
         " operations=" + std::to_string(r.operations) + " events=" + std::to_string(r.events) +
         " cycles=" + std::to_string(r.cycles) + " state=" + hex(r.state_hash) +
         " trace=" + hex(r.trace_hash) + " faults=[" + r.faults + "]";
}

int run(const SimArgs& a) {
  sim::RunOptions o;
  o.scenario = a.scenario;
  o.steps = a.steps;
  o.faults = !a.no_faults;
  o.record = a.record;
  sim::parse_mutant(a.mutant, &o.mutant);  // CLI11 checked the name
  uint64_t first = a.seed, last = a.seed;
  if (!a.seeds.empty() && !parse_range(a.seeds, &first, &last)) {
    std::cerr << "aero-virtio sim: --seeds wants a..b with a <= b, got '" << a.seeds << "'\n";
    return 64;
  }
  const bool sweep = !a.seeds.empty();
  const uint64_t total = last - first + 1;
  uint64_t failures = 0;
  int worst = 0;
  for (uint64_t seed = first;; ++seed) {
    o.seed = seed;
    const sim::RunResult r = sim::run(o);
    int code = static_cast<int>(r.outcome);
    if (r.outcome != sim::Outcome::kPass) {
      std::cerr << sim::failure_line(o, r) << "\n";
    } else if (a.determinism) {
      const sim::RunResult again = sim::run(o);
      if (again.state_hash != r.state_hash || again.trace_hash != r.trace_hash) {
        std::cerr << "FAIL determinism seed=" << seed << " scenario=" << o.scenario
                  << " commit=" << sim::build_commit() << ": state " << hex(r.state_hash)
                  << " vs " << hex(again.state_hash) << ", trace " << hex(r.trace_hash) << " vs "
                  << hex(again.trace_hash) << " | reproduce: " << sim::repro_command(o)
                  << " --determinism\n";
        code = 4;
      }
    }
    if (code != 0) {
      ++failures;
      if (worst == 0) worst = code;
    }
    if (!sweep) {
      std::cout << summary(o, r) << "\n";
    } else if ((seed - first + 1) % 10 == 0 || seed == last) {
      std::cerr << "[sim " << o.scenario << "] " << (seed - first + 1) << "/" << total
                << " seeds, " << failures << " failing\n";
    }
    if (seed == last) break;
  }
  if (sweep) {
    std::cout << o.scenario << ": " << total << " seeds, " << failures << " failing"
              << (a.determinism ? " (each run twice, hashes compared)" : "") << "\n";
  }
  return worst;
}

}  // namespace

std::function<int()> add_sim_command(CLI::App& app) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand(
      "sim", "Run a simulation scenario on the deterministic machine (exit 0 pass, 1 safety, "
             "2 liveness, 3 crash, 4 nondeterminism)");
  std::string names;
  for (const auto& n : sim::scenario_names()) names += (names.empty() ? "" : ", ") + n;
  cmd->add_option("--scenario", args->scenario, "Scenario: " + names)
      ->check(CLI::IsMember(sim::scenario_names()));
  auto* seed = cmd->add_option("--seed", args->seed, "Root seed of the run");
  cmd->add_option("--seeds", args->seeds, "Sweep the seeds a..b (inclusive)")->excludes(seed);
  cmd->add_option("--steps", args->steps, "Workload operations in the fault phase")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  cmd->add_flag("--no-faults", args->no_faults, "Draw the fault mix but never fire it");
  cmd->add_option("--mutant", args->mutant,
                  "Run a deliberately broken device, driver glue or net peer (tests of the "
                  "oracles)")
      ->check(CLI::IsMember(sim::mutant_names()));
  cmd->add_option("--record", args->record, "Write the run's trace to this file")
      ->excludes("--seeds");
  cmd->add_flag("--determinism", args->determinism,
                "Run every seed twice and compare the state and trace hashes");
  return [cmd, args]() -> int { return *cmd ? run(*args) : -1; };
}

std::function<int()> add_replay_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "replay", "Drive the current device model from a recorded trace and compare every device "
                "effect (exit 0 same, 1 divergence, 2 unusable trace)");
  cmd->add_option("trace", *path, "Trace file (aero-virtio sim --record)")->required();
  return [cmd, path]() -> int {
    if (!*cmd) return -1;
    const traces::ReadResult read = traces::read_trace_file(*path);
    if (!read.ok()) {
      std::cerr << "aero-virtio replay: " << *path << ": " << read.error->message << "\n";
      return 2;
    }
    const sim::ReplayResult r = sim::replay(read.trace);
    if (r.ok) {
      std::cout << *path << ": " << r.events << " events replayed, device behaviour identical\n";
      return 0;
    }
    std::cerr << *path << ": " << r.message << "\n";
    if (!r.recorded.empty()) std::cerr << "  recorded: " << r.recorded << "\n";
    if (!r.replayed.empty()) std::cerr << "  replayed: " << r.replayed << "\n";
    return r.recorded.empty() && r.replayed.empty() ? 2 : 1;
  };
}

void add_trace_sim_commands(CLI::App& trace) {
  auto paths = std::make_shared<std::pair<std::string, std::string>>();
  auto* cmd = trace.add_subcommand(
      "pcap", "Write the net frames of a recorded run as a pcap capture (exit 2 bad input)");
  cmd->add_option("trace", paths->first, "Trace file")->required();
  cmd->add_option("pcap", paths->second, "Capture file to write")->required();
  cmd->callback([paths] {
    int code = 0;
    const traces::ReadResult read = traces::read_trace_file(paths->first);
    if (!read.ok()) {
      std::cerr << "aero-virtio: " << paths->first << ": " << read.error->message << "\n";
      code = 2;
    } else {
      const sim::PcapExport p = sim::export_pcap(read.trace);
      std::ofstream f(paths->second, std::ios::binary);
      f.write(reinterpret_cast<const char*>(p.bytes.data()),
              static_cast<std::streamsize>(p.bytes.size()));
      if (!f) {
        std::cerr << "aero-virtio: cannot write " << paths->second << "\n";
        code = 2;
      } else {
        std::cout << paths->second << ": " << p.sent << " frames sent, " << p.received
                  << " frames received\n";
      }
    }
    throw CLI::RuntimeError(code);
  });

  auto minimize_paths = std::make_shared<std::pair<std::string, std::string>>();
  auto* min = trace.add_subcommand(
      "minimize", "Cut a divergent trace to the fewest driver actions that still diverge the same "
                  "way (exit 0 written, 1 nothing to minimize, 2 bad input)");
  min->add_option("trace", minimize_paths->first, "Trace whose replay diverges")->required();
  min->add_option("out", minimize_paths->second, "Minimized trace to write")->required();
  min->callback([minimize_paths] {
    int code = 0;
    const traces::ReadResult read = traces::read_trace_file(minimize_paths->first);
    if (!read.ok()) {
      std::cerr << "aero-virtio: " << minimize_paths->first << ": " << read.error->message << "\n";
      throw CLI::RuntimeError(2);
    }
    const sim::MinimizeResult m = sim::minimize(read.trace);
    if (!m.ok) {
      std::cerr << "aero-virtio: " << minimize_paths->first << ": " << m.message << "\n";
      throw CLI::RuntimeError(1);
    }
    try {
      traces::TraceWriter w(minimize_paths->second, m.trace.provenance, m.trace.table);
      for (const traces::EventView& e : m.trace.events) w.write(e);
      w.finish();
    } catch (const std::exception& e) {
      std::cerr << "aero-virtio: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
    std::cout << minimize_paths->second << ": " << m.actions_after << " of " << m.actions_before
              << " driver actions kept (" << m.trace.events.size() << " events, " << m.replays
              << " replays" << (m.budget_exhausted ? ", replay budget exhausted: not minimal" : "")
              << "); still diverges: " << m.message << "\n";
    throw CLI::RuntimeError(code);
  });
}

}  // namespace aerov::cli
