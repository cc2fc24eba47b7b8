#include "model/sim/fault_plan.hpp"

namespace aerov::model::sim {

std::string_view to_string(Fault f) {
  switch (f) {
    case Fault::kBackendIoError: return "backend_io_error";
    case Fault::kBackendLatency: return "backend_latency";
    case Fault::kIrqDelay: return "irq_delay";
    case Fault::kIrqCoalesce: return "irq_coalesce";
    case Fault::kSpuriousIrq: return "spurious_irq";
    case Fault::kSpuriousDoorbell: return "spurious_doorbell";
    case Fault::kNeedsReset: return "needs_reset";
    case Fault::kDriverReset: return "driver_reset";
    case Fault::kPeerLoss: return "peer_loss";
    case Fault::kPeerReorder: return "peer_reorder";
    case Fault::kCount: break;
  }
  return "unknown";
}

FaultPlan::FaultPlan(RngStreams& streams, std::initializer_list<Fault> available) {
  for (size_t i = 0; i < kSites; ++i) {
    fire_rng_[i] = &streams.stream("fault." + std::string(to_string(static_cast<Fault>(i))));
  }
  for (Fault f : available) {
    Rng& swarm = streams.stream("swarm." + std::string(to_string(f)));
    // Half the sites are on in a run; an enabled site's rate is log-uniform
    // from 1 ppm to kMaxRatePpm, so rare and frequent faults both get runs.
    if (!swarm.chance(1, 2)) continue;
    const uint64_t decades = swarm.below(6);  // 10^0 .. 10^5
    uint64_t rate = 1;
    for (uint64_t i = 0; i < decades; ++i) rate *= 10;
    rate += swarm.below(rate * 9 + 1);
    rate_[index(f)] = static_cast<uint32_t>(rate < kMaxRatePpm ? rate : kMaxRatePpm);
  }
}

bool FaultPlan::fire(Fault f) {
  const uint32_t rate = rate_[index(f)];
  if (!active_ || rate == 0 || !fire_rng_[index(f)]->chance(rate, 1'000'000)) return false;
  ++fired_[index(f)];
  return true;
}

std::string FaultPlan::describe() const {
  std::string out;
  for (size_t i = 0; i < kSites; ++i) {
    if (rate_[i] == 0) continue;
    if (!out.empty()) out += ' ';
    out += std::string(to_string(static_cast<Fault>(i))) + "=" + std::to_string(rate_[i]) + "ppm";
  }
  return out.empty() ? "none" : out;
}

}  // namespace aerov::model::sim
