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

// `aero-virtio trace pcap <trace> <out.pcap>`: the run's net frames as a
// capture (added under the existing `trace` subcommand).
void add_trace_pcap_command(CLI::App& trace);

}  // namespace aerov::cli
