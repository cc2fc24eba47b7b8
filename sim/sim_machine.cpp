#include "sim/sim_machine.hpp"

#include <xxhash.h>

#include <nlohmann/json.hpp>

#include "sim/trace_channels.hpp"
#include "transport/device/forwarding_device.hpp"

namespace aerov::sim {

// Forwards everything to the device model, except that a doorbell becomes
// an event: the device runs the queue when the event does.
class SimMachine::Gate final : public transport::ForwardingDevice {
 public:
  Gate(SimMachine& m, transport::VirtioDevice& inner) : ForwardingDevice(inner), m_(m) {}
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override {
    if (passthrough_ || (q < 32 && (m_.immediate_queues_ >> q & 1) != 0)) {
      inner().queue_notify(q, t);
      return;
    }
    m_.note("doorbell", q);
    m_.serve_soon(q, 20 + m_.timing.below(200));
  }

  bool passthrough_ = false;

 private:
  SimMachine& m_;
};

SimMachine::SimMachine(const SimMachineOptions& o)
    : rng(o.seed), faults(rng, o.sites), timing(rng.stream("timing")) {
  if (!o.faults) faults.off();
  static constexpr uint16_t kGrants[4] = {0, 0, 1, 3};
  msix_messages_ = kGrants[rng.stream("platform").below(4)];
  intx.set_sink([this](bool level) { interrupt_line(level); });
  on_msi = [this](const model::irq::MsiMessage& m) {
    note("msi", m.data);
    if (recorder_) recorder_->msi(m.address, m.data);
    schedule_messages();
  };
}

SimMachine::~SimMachine() = default;

void SimMachine::attach_device(transport::VirtioDevice& device, const contract::DeviceSpec& spec,
                               Mutant mutant) {
  gate_ = std::make_unique<Gate>(*this, with_mutant(mutant, device, mutant_));
  glue_ = DriverGlue(mutant);
  serve_scheduled_.assign(device.num_queues(), false);
  if (msix_messages_ != 0) set_msix_vectors(4);
  attach(*gate_, spec);
  os->trace_mmio(false);  // nothing reads the OS services' access log; it would grow all run
  // As firmware would before the driver starts (not part of a recording:
  // the replayer grants the same from the configuration).
  if (msix_messages_ != 0) os->grant_msix_messages(msix_messages_);
}

void Hash::add_bytes(const uint8_t* p, size_t n) {
  add(XXH3_64bits(p, n));
  add(n);
}

void SimMachine::note(Label what, uint64_t value) {
  trace_.add(events.now());
  trace_.add(what.hash());
  trace_.add(value);
}

void SimMachine::serve_soon(uint16_t q, Cycles delay) {
  if (q >= serve_scheduled_.size() || serve_scheduled_[q]) return;
  serve_scheduled_[q] = true;
  events.schedule_in(delay, [this, q] {
    serve_scheduled_[q] = false;
    note("device serves queue", q);
    if (recorder_) recorder_->doorbell_begin(q);
    gate_->passthrough_ = true;
    function->process_queue(q);
    gate_->passthrough_ = false;
    if (recorder_) recorder_->doorbell_end();
  });
}

void SimMachine::interrupt_line(bool level) {
  note("intx", level ? 1 : 0);
  if (recorder_) recorder_->intx(level);
  if (level) schedule_interrupt();
}

void SimMachine::schedule_interrupt() {
  if (irq_scheduled_) return;
  irq_scheduled_ = true;
  Cycles delay = 10 + timing.below(100);
  if (faults.fire(Fault::kIrqDelay)) delay += 1000 + timing.below(20000);
  if (faults.fire(Fault::kIrqCoalesce)) delay += 200 + timing.below(2000);  // more causes pile up
  events.schedule_in(delay, [this] {
    irq_scheduled_ = false;
    note("driver interrupt", intx.level() ? 1 : 0);
    driver_interrupt();
    // Level-triggered: still asserted means another round.
    if (intx.level()) schedule_interrupt();
  });
}

// Message-signalled: every message recorded so far reaches the core's
// routine after one seeded latency (late or coalesced under the IRQ faults).
void SimMachine::schedule_messages() {
  if (msi_scheduled_) return;
  msi_scheduled_ = true;
  Cycles delay = 10 + timing.below(100);
  if (faults.fire(Fault::kIrqDelay)) delay += 1000 + timing.below(20000);
  if (faults.fire(Fault::kIrqCoalesce)) delay += 200 + timing.below(2000);
  events.schedule_in(delay, [this] {
    msi_scheduled_ = false;
    note("driver message interrupt", msi_messages.size());
    deliver_messages([this](uint16_t message) { return driver_message(message); });
  });
}

bool SimMachine::driver_interrupt() {
  if (!on_interrupt || !glue_.serving()) return false;
  glue_.begin_dpc();
  return glue_.answered(on_interrupt());
}

bool SimMachine::driver_message(uint16_t message) {
  if (!on_message || !glue_.serving()) return false;
  glue_.begin_dpc();
  return glue_.answered(on_message(message));
}

std::string SimMachine::interrupt_description() const {
  return msix_messages_ == 0 ? "intx" : "msix" + std::to_string(msix_messages_);
}

void SimMachine::start_chaos(Cycles period) {
  events.schedule_in(period, [this, period] { chaos(period); });
}

void SimMachine::chaos(Cycles period) {
  if (!faults.active()) return;
  if (faults.fire(Fault::kSpuriousIrq)) {
    if (msix_messages_ == 0) {
      note("spurious interrupt", 0);
      driver_interrupt();
    } else if (on_message) {
      const auto message = static_cast<uint16_t>(timing.below(msix_messages_ + 1));
      note("spurious message", message);
      driver_message(message);  // possibly a message number nobody was granted
    }
  }
  if (faults.fire(Fault::kSpuriousDoorbell) && !serve_scheduled_.empty()) {
    const auto q = static_cast<uint16_t>(timing.below(serve_scheduled_.size()));
    note("spurious doorbell", q);
    serve_soon(q, 1);
  }
  if (faults.fire(Fault::kNeedsReset) && progress_since_reset()) {
    note("device needs reset", 0);
    ++resets_injected_;
    host_input(channel::kNeedsReset, {}, [this] { function->set_needs_reset(); });
  }
  if (faults.fire(Fault::kDriverReset) && on_driver_reset) {
    note("driver reset", 0);
    if (glue_.serving()) {
      glue_.begin_dpc();
      on_driver_reset();
    }
  }
  events.schedule_in(period, [this, period] { chaos(period); });
}

bool SimMachine::progress_since_reset() {
  if (!progress) return true;
  const uint64_t p = progress();
  if (p == progress_at_reset_) return false;
  progress_at_reset_ = p;
  return true;
}

void SimMachine::record(const std::string& path, const traces::Provenance& provenance) {
  recorder_ = std::make_unique<Recorder>(*this, path, provenance);
}

drivers::windows7::OsServices& SimMachine::driver_os() {
  if (recorder_) return recorder_->os();
  return *os;
}

void SimMachine::host_input(uint16_t channel, std::span<const uint8_t> bytes,
                            const std::function<void()>& act) {
  if (recorder_) recorder_->host_input(channel, bytes);
  act();
}

void SimMachine::host_output(uint16_t channel, std::span<const uint8_t> bytes) {
  if (recorder_) recorder_->host_output(channel, bytes);
}

void SimMachine::finish_recording() {
  if (recorder_) recorder_->finish();
  recorder_.reset();
}

std::string unexpected_resets(uint64_t resets, uint64_t injected) {
  return "the core reset the device " + std::to_string(resets) + " times but only " +
         std::to_string(injected) +
         " DEVICE_NEEDS_RESET were injected: the device broke the ring protocol (VQ-9)";
}

traces::Provenance SimMachine::provenance(
    const RunOptions& options, const std::string& device_type,
    const std::vector<std::pair<std::string, uint64_t>>& extra) const {
  nlohmann::ordered_json j;
  j["steps"] = options.steps;
  j["faults"] = options.faults;
  j["msix_messages"] = msix_messages_;
  if (immediate_queues_ != 0) j["immediate_queues"] = immediate_queues_;
  if (options.mutant != Mutant::kNone) j["mutant"] = std::string(to_string(options.mutant));
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& [lo, hi] : used_ranges()) ranges.push_back({lo, hi});
  j["ranges"] = ranges;
  for (const auto& [k, v] : extra) j[k] = v;
  traces::Provenance p;
  p.root_seed = options.seed;
  p.scenario = options.scenario;
  p.commit = build_commit();
  p.config_json = j.dump();
  p.devices = {{0, device_type, kBdf.bus, kBdf.device, kBdf.function}};
  return p;
}

RunResult SimMachine::result(Outcome outcome, const std::string& message, uint64_t state_hash,
                             uint64_t operations) {
  finish_recording();
  RunResult r;
  r.outcome = failure_.empty() ? outcome : Outcome::kSafety;
  r.message = failure_.empty() ? message : failure_;
  r.faults = faults.describe() + " irq=" + interrupt_description();
  r.state_hash = state_hash;
  r.trace_hash = trace_.value();
  r.events = events.events_run();
  r.cycles = events.now();
  r.operations = operations;
  r.payload_bytes = payload_bytes_;
  return r;
}

bool SimMachine::run(const std::function<bool()>& until, Cycles deadline) {
  while (failure_.empty() && !until()) {
    if (!events.run_next()) return false;
    if (events.now() > deadline) break;
  }
  return failure_.empty() && until();
}

}  // namespace aerov::sim
