// `aero-virtio sim`: one seed of a scenario, a sweep over a seed range, or
// the determinism self-check (each seed twice, hashes compared).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace aerov::cli {

// Adds the subcommand to `app`; the returned function runs it once parsed
// and gives the process exit code.
std::function<int()> add_sim_command(CLI::App& app);

}  // namespace aerov::cli
