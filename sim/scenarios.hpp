// The scenario implementations behind sim::run (one file each).
#pragma once

#include "sim/scenario.hpp"

namespace aerov::sim {

RunResult run_blk(const RunOptions& options);
RunResult run_net(const RunOptions& options);
RunResult run_input(const RunOptions& options);
RunResult run_snd(const RunOptions& options);

}  // namespace aerov::sim
