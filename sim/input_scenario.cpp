// Scenario "input": the Windows 7 input core drives the virtio-input mouse
// function while the host (an emulator front end) injects batches of
// events at seeded times.
//
// Workload: batch k is one relative move whose (dx, dy) encode k, so every
// HID report the core hands up names the one batch it came from; about one
// batch in eight also turns the wheel (not part of the encoding).
//
// Oracles. Safety: every report is a 7-byte mouse report of a batch that was
// injected, in injection order, at most once (report k+1 names a later batch
// than report k) with no buttons held. Batches may go missing only where
// the device counted a drop (INP-9 overflow or a reset discarding queued
// events), and never more than the events it counted. Liveness: with faults
// off, a final run of batches is reported in full.
#include <string>
#include <vector>

#include "drivers/windows7/common/input_core.hpp"
#include "sim/device_stacks.hpp"
#include "sim/scenarios.hpp"
#include "sim/sim_machine.hpp"
#include "sim/trace_channels.hpp"

namespace aerov::sim {

namespace {

namespace w7 = drivers::windows7;
namespace in = model::devices::input;
using model::devices::InputDevice;

constexpr Cycles kLivenessBound = 20'000'000;
constexpr uint64_t kFinalBatches = 32;
constexpr int32_t kAxis = 32767;  // the report's largest |dx|, |dy|

// Batch k as a move: dx in 1..32767, dy in 1..32767.
int32_t dx_of(uint64_t k) { return static_cast<int32_t>(k % kAxis) + 1; }
int32_t dy_of(uint64_t k) { return static_cast<int32_t>(k / kAxis % kAxis) + 1; }

class InputScenario {
 public:
  explicit InputScenario(const RunOptions& o)
      : options_(o),
        m_(SimMachineOptions{o.seed, o.faults,
                             {Fault::kIrqDelay, Fault::kIrqCoalesce, Fault::kSpuriousIrq,
                              Fault::kSpuriousDoorbell, Fault::kNeedsReset}}),
        work_(m_.rng.stream("workload")),
        device_(stack_.device) {
    m_.attach_device(device_, contract::kInput, o.mutant);
    device_.on_events_pending = [this] {
      m_.serve_soon(InputDevice::kEventQueue, 10 + m_.timing.below(100));
    };
    m_.on_interrupt = [this] { return core_.interrupt(); };
    m_.on_message = [this](uint16_t message) { return core_.message_interrupt(message); };
    m_.progress = [this] { return core_.counters().events; };
  }

  RunResult run() {
    if (!options_.record.empty()) {
      m_.record(options_.record, m_.provenance(options_, "virtio-input", {}));
    }
    w7::InputCoreConfig cfg{};
    cfg.on_report = &InputScenario::on_report;
    cfg.context = this;
    if (core_.init(m_.driver_os(), cfg) != w7::InputError::kNone) {
      throw SafetyFailure("core init failed");
    }
    m_.start_chaos(2000);
    schedule_inject();
    if (!m_.run([this] { return injected_ >= options_.steps; }, options_.steps * 100'000)) {
      return finish(Outcome::kLiveness, "workload stalled in the fault phase");
    }
    // Liveness: faults off; everything queued drains, then a final run of
    // batches must arrive in full.
    m_.faults.off();
    const Cycles deadline = m_.now() + kLivenessBound;
    if (!m_.run([this] { return device_.pending_events() == 0; }, deadline)) {
      return finish(Outcome::kLiveness, std::to_string(device_.pending_events()) +
                                            " events still queued in the device " +
                                            std::to_string(kLivenessBound) +
                                            " cycles after faults stopped");
    }
    const uint64_t first_final = injected_;
    for (uint64_t i = 0; i < kFinalBatches; ++i) inject_one();
    if (!m_.run([this] { return reported_ != 0 && last_ + 1 == injected_; },
                m_.now() + kLivenessBound)) {
      return finish(Outcome::kLiveness, "the final batches " + std::to_string(first_final) + ".." +
                                            std::to_string(injected_ - 1) +
                                            " were not all reported with faults off");
    }
    const auto& st = device_.stats();
    const uint64_t missing = injected_ - reported_;
    if (missing > st.batches_dropped + st.reset_dropped) {
      return finish(Outcome::kSafety, std::to_string(missing) + " batches never reported but the device counted only " +
                                          std::to_string(st.batches_dropped) + " dropped batches and " +
                                          std::to_string(st.reset_dropped) + " events dropped by resets");
    }
    if (core_.counters().resets > m_.resets_injected()) {
      return finish(Outcome::kSafety, unexpected_resets(core_.counters().resets, m_.resets_injected()));
    }
    return finish(Outcome::kPass, "");
  }

  RunResult fail(const std::string& message) { return finish(Outcome::kSafety, message); }

 private:
  void schedule_inject() {
    m_.events.schedule_in(1 + work_.below(400), [this] {
      if (injected_ >= options_.steps) return;
      inject_one();
      schedule_inject();
    });
  }

  // The host injects batch `injected_` (recorded as host_input).
  void inject_one() {
    const uint64_t k = injected_++;
    std::vector<in::Event> batch = {{in::kEvRel, in::kRelX, static_cast<uint32_t>(dx_of(k))},
                                    {in::kEvRel, in::kRelY, static_cast<uint32_t>(dy_of(k))}};
    if (work_.below(8) == 0) {
      batch.push_back({in::kEvRel, in::kRelWheel, work_.below(2) == 0 ? 1u : ~0u});
    }
    m_.note("host injects batch", k);
    const auto bytes = InputStack::events_input(batch);
    m_.host_input(channel::kInputEvents, bytes, [&] { stack_.apply(channel::kInputEvents, bytes); });
  }

  static void on_report(void* context, const uint8_t* report, uint32_t length) {
    static_cast<InputScenario*>(context)->report(report, length);
  }

  void report(const uint8_t* r, uint32_t length) {
    if (length != w7::InputCore::kMouseReportBytes) {
      return m_.safety("a report of " + std::to_string(length) + " bytes from the mouse");
    }
    const auto dx = static_cast<int16_t>(r[1] | r[2] << 8);
    const auto dy = static_cast<int16_t>(r[3] | r[4] << 8);
    if (r[0] != 0 || dx < 1 || dy < 1) {
      return m_.safety("report (buttons " + std::to_string(r[0]) + ", " + std::to_string(dx) + ", " +
                       std::to_string(dy) + ") is no injected batch");
    }
    const uint64_t k = static_cast<uint64_t>(dx - 1) + static_cast<uint64_t>(dy - 1) * kAxis;
    m_.note("driver reports batch", k);
    if (k >= injected_) {
      return m_.safety("report of batch " + std::to_string(k) + " which was never injected (" +
                       std::to_string(injected_) + " so far): events of two batches merged");
    }
    if (reported_ != 0 && k <= last_) {
      return m_.safety("batch " + std::to_string(k) + " reported after batch " + std::to_string(last_) +
                       (k == last_ ? " (twice)" : " (out of order)"));
    }
    last_ = k;
    ++reported_;
  }

  RunResult finish(Outcome o, const std::string& message) {
    Hash state;
    const auto& c = core_.counters();
    for (uint64_t v : {c.events, c.bad_events, c.ignored_events, c.reports, c.clamped, c.kicks,
                       c.interrupts, c.spurious, c.resets}) {
      state.add(v);
    }
    const auto& st = device_.stats();
    for (uint64_t v : {st.events_delivered, st.batches_dropped, st.reset_dropped}) state.add(v);
    state.add(last_);
    return m_.result(o, message, state.value(), injected_);
  }

  RunOptions options_;
  SimMachine m_;
  model::sim::Rng& work_;
  InputStack stack_;
  InputDevice& device_;
  w7::InputCore core_;
  uint64_t injected_ = 0;
  uint64_t reported_ = 0;
  uint64_t last_ = 0;  // the latest batch reported
};

}  // namespace

RunResult run_input(const RunOptions& options) { return run_scenario<InputScenario>(options); }

}  // namespace aerov::sim
