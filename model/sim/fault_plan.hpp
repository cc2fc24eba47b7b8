// Swarm fault injection for the deterministic machine.
//
// Every run draws its own fault mix from the root seed ("swarm testing",
// Groce et al. 2012): each fault site is switched on for the run or not, and
// an enabled site fires with its own per-run probability. Seeds thus cover
// runs with no faults, runs with one kind hammered, and everything between,
// instead of every run averaging over every fault. The plan only decides
// *whether* a site fires; the scenario decides what firing means, and keeps
// every fault within what the contract lets a correct driver survive.
//
// Each site draws from its own named streams of the run's RngStreams
// ("swarm.<site>" for its rate, "fault.<site>" for its firing), so adding a
// site or firing one more often changes nothing else in the run. off() ends the fault phase: no site fires
// afterwards (the liveness phase).
#pragma once

#include <array>
#include <initializer_list>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/sim/rng.hpp"

namespace aerov::model::sim {

enum class Fault : uint8_t {
  kBackendIoError = 0,  // a backend operation fails (IOERR for that request only)
  kBackendLatency,      // a backend latency spike
  kIrqDelay,            // an interrupt reaches the driver late
  kIrqCoalesce,         // an interrupt is folded into the next one
  kSpuriousIrq,         // the driver's ISR runs with nothing pending
  kSpuriousDoorbell,    // the device looks at a queue nobody notified
  kNeedsReset,          // the device sets DEVICE_NEEDS_RESET mid-flight (STAT-4)
  kDriverReset,         // the driver resets the device on its own
  kPeerLoss,            // the network peer loses a frame
  kPeerReorder,         // the network peer delays a frame past later ones
  kCount,
};

std::string_view to_string(Fault f);

class FaultPlan {
 public:
  static constexpr size_t kSites = static_cast<size_t>(Fault::kCount);
  // Per-run firing probability, drawn per enabled site, in parts per million.
  static constexpr uint32_t kMaxRatePpm = 200'000;

  // `available` lists the sites the scenario has (others never fire).
  FaultPlan(RngStreams& streams, std::initializer_list<Fault> available);
  // Every site off, whatever the seed (for the "no faults" runs and tests).
  static FaultPlan none(RngStreams& streams) { return FaultPlan(streams, {}); }

  bool fire(Fault f);
  bool enabled(Fault f) const { return active_ && rate_[index(f)] != 0; }
  uint32_t rate_ppm(Fault f) const { return rate_[index(f)]; }
  uint64_t fired(Fault f) const { return fired_[index(f)]; }
  // Forces a site's rate (tests that prove a fault bites).
  void set_rate(Fault f, uint32_t ppm) { rate_[index(f)] = ppm; }

  void off() { active_ = false; }
  bool active() const { return active_; }

  // "irq_delay=12000ppm needs_reset=800ppm" (enabled sites only) or "none".
  std::string describe() const;

 private:
  static size_t index(Fault f) { return static_cast<size_t>(f); }

  std::array<Rng*, kSites> fire_rng_{};
  std::array<uint32_t, kSites> rate_{};
  std::array<uint64_t, kSites> fired_{};
  bool active_ = true;
};

}  // namespace aerov::model::sim
