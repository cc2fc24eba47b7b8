// Replays a recorded simulation trace against the current device models
// (docs/trace-format.md): builds the scenario's device stack from the
// trace's provenance, performs every driver-side event (config and BAR
// accesses, mem_write, doorbell, host_input) on a fresh machine, and checks
// every device-side effect against the recording: the value of each read,
// each interrupt level change, each dma_write, each frame handed to the host
// and each state hash. The first difference stops the replay and is
// reported with the recorded and the replayed event.
#pragma once

#include <cstdint>
#include <string>

#include "traces/trace_reader.hpp"

namespace aerov::sim {

struct ReplayResult {
  bool ok = false;
  uint64_t events = 0;       // recorded events replayed (all of them when ok)
  // On a divergence or an unusable trace:
  std::string message;       // one line: what differs, where
  uint64_t index = 0;        // event index of the first divergence
  std::string recorded;      // canonical dump line of the recorded event
  std::string replayed;      // ... of what the replay produced ("" if nothing)
};

ReplayResult replay(const traces::Trace& trace);

}  // namespace aerov::sim
