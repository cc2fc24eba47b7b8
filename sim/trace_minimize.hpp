// `trace minimize`: delta debugging (Zeller's ddmin) over a divergent
// trace's driver-side events. A trace whose replay diverges from the current
// device models is cut to the fewest driver actions after which the replay
// still diverges in the same way: the same cause at the same recorded event.
//
// Unit of removal: one driver-side event (config or BAR access, mem_write,
// doorbell, host_input) together with the device-side events recorded after
// it (dma_write, intx, msi, host_output), which are its effects; removing
// the action removes them too. Everything after the divergent event is
// dropped first, and so are notes and state hashes (other than a divergent
// one), which only the full run's memory would match.
#pragma once

#include <cstdint>
#include <string>

#include "traces/trace_reader.hpp"

namespace aerov::sim {

struct MinimizeResult {
  bool ok = false;        // false: nothing to minimize (see message)
  std::string message;    // the preserved divergence, or why there is none
  traces::Trace trace;    // the minimized trace (provenance unchanged)
  size_t actions_before = 0;  // driver actions up to the divergence
  size_t actions_after = 0;
  uint64_t replays = 0;       // replays run by the search
  bool budget_exhausted = false;  // stopped at max_replays: small, not minimal
};

MinimizeResult minimize(const traces::Trace& trace, uint64_t max_replays = 5000);

}  // namespace aerov::sim
