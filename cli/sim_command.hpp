// `aero-virtio sim`: one seed of a scenario, a sweep over a seed range, or
// the determinism self-check (each seed twice, hashes compared); and
// `aero-virtio replay` of a recorded run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace aerov::cli {

// Adds the subcommand to `app`; the returned function runs it once parsed
// and gives the process exit code.
std::function<int()> add_sim_command(CLI::App& app);

// `aero-virtio replay <trace>`: drives the current device model from a
// recorded trace (exit 0 same behaviour, 1 divergence, 2 unusable trace).
std::function<int()> add_replay_command(CLI::App& app);

// Under the existing `trace` subcommand: `trace pcap <trace> <out.pcap>`
// (the run's net frames as a capture) and `trace minimize <trace> <out>`
// (delta debugging of a divergent trace, sim/trace_minimize.hpp).
void add_trace_sim_commands(CLI::App& trace);

}  // namespace aerov::cli
