// The deterministic machine a simulation scenario runs on: a CoreMachine
// (guest RAM, PCI bus, the real virtio-pci transport, INTx, OS services)
// whose every asynchronous edge is an event on one virtual clock.
//
//   * Doorbells. The transport hands a queue notify to the device model at
//     once on a real bus; here the Gate in front of the model turns it into
//     an event a seeded number of cycles later (several notifies of one
//     queue before it runs fold into one, as a device that is already busy
//     would see them). Scenarios also call serve_soon() for "the backend
//     finished something" and "a frame arrived".
//   * Interrupts. A rising INTx level schedules the driver's interrupt
//     handler after a seeded latency; as the line is level-triggered, the
//     handler is scheduled again while the line stays asserted.
//   * Faults (FaultPlan): late and coalesced interrupts, spurious
//     interrupts and doorbells, DEVICE_NEEDS_RESET mid-flight, driver
//     resets; scenarios add their backend's.
//
// Everything random comes from named streams of one root seed; nothing
// reads the wall clock. Every event that runs is folded into trace_hash(),
// so two runs of a seed can be compared by one number.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "drivers/host/testing/core_machine.hpp"
#include "model/sim/event_queue.hpp"
#include "model/sim/fault_plan.hpp"
#include "model/sim/rng.hpp"
#include "sim/mutants.hpp"
#include "sim/recorder.hpp"
#include "sim/scenario.hpp"

namespace aerov::sim {

using model::sim::Cycles;
using model::sim::Fault;

// An oracle saw the system do something the contract forbids. Thrown only
// outside driver-core calls; inside callbacks (which run within the
// freestanding cores, built without exceptions) oracles call
// SimMachine::safety() and the run stops after the current event.
struct SafetyFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Incremental hash in the style of FNV-1a, one step per 64-bit value (not
// per byte): stable across compilers and runs. add_bytes() folds in a
// buffer's XXH3-64 and its length.
class Hash {
 public:
  void add(uint64_t v) { h_ = (h_ ^ v) * 0x100000001b3ull; }
  void add_bytes(const uint8_t* p, size_t n);
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

// What a note() says: a string literal, hashed (FNV-1a over its bytes)
// when the program is compiled, so noting an event costs three hash steps.
class Label {
 public:
  template <size_t N>
  consteval Label(const char (&text)[N]) {  // NOLINT: implicit from a literal on purpose
    for (size_t i = 0; i + 1 < N; ++i) hash_ = (hash_ ^ static_cast<uint8_t>(text[i])) * 0x100000001b3ull;
  }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

struct SimMachineOptions {
  uint64_t seed = 0;
  bool faults = true;
  // Fault sites the scenario can survive; others stay off.
  std::initializer_list<Fault> sites = {};
};

class SimMachine : public drivers::host::testing::CoreMachine {
 public:
  explicit SimMachine(const SimMachineOptions& options);
  ~SimMachine();

  // Puts the device on the bus behind the doorbell gate (and, for the
  // device mutants, behind the broken variant); selects the glue mutants.
  void attach_device(transport::VirtioDevice& device, const contract::DeviceSpec& spec,
                     Mutant mutant);
  // DEVICE_NEEDS_RESET injections so far: a correct device makes the core
  // reset at most this often (the unexpected-reset oracle).
  uint64_t resets_injected() const { return resets_injected_; }

  // The platform's interrupt grant, drawn per seed from the "platform"
  // stream: 0 (INTx, half the seeds), 1 or 3 MSI-X messages.
  uint16_t msix_messages() const { return msix_messages_; }
  // "intx", "msix1", "msix3" (goes into the result's description).
  std::string interrupt_description() const;

  // The driver side, supplied by the scenario and called through glue().
  std::function<bool()> on_interrupt;   // the core's ISR (+ DPC): true if ours
  std::function<bool(uint16_t)> on_message;  // the core's MSI-X routine
  std::function<void()> on_driver_reset;  // kDriverReset fired
  // The driver's progress so far (completions of any kind). DEVICE_NEEDS_RESET
  // is injected only when it moved since the last injection: a driver may
  // give up on a device that breaks again before any progress, so faults
  // stay survivable.
  std::function<uint64_t()> progress;

  // The device looks at queue q after `delay` cycles (folded with a pending
  // look at the same queue).
  void serve_soon(uint16_t q, Cycles delay);
  // Doorbells of queue q (< 32) reach the device at once, inside the
  // driver's write: for a core that waits for the answer within the call
  // (snd's control requests), as a device thread answering within the
  // driver's stall would. Part of the recorded configuration.
  void serve_at_doorbell(uint16_t q) { immediate_queues_ |= uint32_t{1} << q; }
  // Schedules a labelled event; the label and time go into trace_hash().
  // `fn` is held in the event's own callback, not wrapped in a second
  // std::function.
  template <class Fn>
  void at(Cycles delay, Label label, Fn fn) {
    events.schedule_in(delay, [this, label, fn = std::move(fn)]() mutable {
      note(label, 0);
      fn();
    });
  }

  // Records the run from now on (see recorder.hpp); the driver core must
  // then use driver_os().
  void record(const std::string& path, const traces::Provenance& provenance);
  // The provenance of a recorded run of `options`: seed, scenario, commit,
  // device 0 of `device_type` at kBdf, and a configuration holding the run
  // options, the RAM the recorder watches (the replayer watches the same)
  // and `extra`.
  traces::Provenance provenance(const RunOptions& options, const std::string& device_type,
                                const std::vector<std::pair<std::string, uint64_t>>& extra) const;
  drivers::windows7::OsServices& driver_os();
  // The driver's OS glue; scenarios ask it before handing a completion on.
  DriverGlue& glue() { return glue_; }
  // A host-side action on the device (recorded as host_input first).
  void host_input(uint16_t channel, std::span<const uint8_t> bytes, const std::function<void()>& act);
  // Something the device handed the host (recorded as host_output).
  void host_output(uint16_t channel, std::span<const uint8_t> bytes);
  // Completes the trace, if recording.
  void finish_recording();
  bool recording() const { return recorder_ != nullptr; }

  // Machine-level faults (spurious interrupts and doorbells, NEEDS_RESET,
  // driver resets) get a chance every `period` cycles while the plan is on.
  void start_chaos(Cycles period);

  // Runs events until `until` returns true (checked between events), the
  // queue is empty, `deadline` passes or safety() was called. Returns true
  // if `until` held (and nothing failed).
  bool run(const std::function<bool()>& until, Cycles deadline);

  // Records the first safety violation; run() stops after this event.
  void safety(std::string message) {
    if (failure_.empty()) failure_ = std::move(message);
  }
  const std::string& failure() const { return failure_; }

  // The run's result: the outcome (a recorded safety violation wins over
  // what followed from it), the fault mix, hashes and counts.
  // Completes the trace when recording.
  RunResult result(Outcome outcome, const std::string& message, uint64_t state_hash,
                   uint64_t operations);

  Cycles now() const { return events.now(); }
  // Adds to the result's payload_bytes.
  void count_payload(uint64_t bytes) { payload_bytes_ += bytes; }
  uint64_t trace_hash() const { return trace_.value(); }
  // Folds (now, what, value) into trace_hash().
  void note(Label what, uint64_t value);

  model::sim::EventQueue events;
  model::sim::RngStreams rng;
  model::sim::FaultPlan faults;
  model::sim::Rng& timing;  // latencies

 private:
  class Gate;
  void interrupt_line(bool level);
  bool driver_interrupt();
  bool driver_message(uint16_t message);
  void schedule_interrupt();
  void schedule_messages();
  void chaos(Cycles period);
  bool progress_since_reset();

  std::unique_ptr<Gate> gate_;
  std::unique_ptr<transport::VirtioDevice> mutant_;
  std::unique_ptr<Recorder> recorder_;
  DriverGlue glue_{Mutant::kNone};
  uint64_t resets_injected_ = 0;
  uint64_t payload_bytes_ = 0;
  uint64_t progress_at_reset_ = ~uint64_t{0};
  std::string failure_;
  Hash trace_;
  bool irq_scheduled_ = false;
  bool msi_scheduled_ = false;
  uint16_t msix_messages_ = 0;
  uint32_t immediate_queues_ = 0;
  std::vector<bool> serve_scheduled_;
};

// The message of the unexpected-reset oracle: the core reset the device
// more often than DEVICE_NEEDS_RESET was injected, so the device broke the
// ring protocol (VQ-9) or the core reset for nothing.
std::string unexpected_resets(uint64_t resets, uint64_t injected);


// Runs a scenario object (constructor from RunOptions, run(), fail()),
// turning a SafetyFailure thrown outside the cores into a safety result.
template <class Scenario>
RunResult run_scenario(const RunOptions& options) {
  auto scenario = std::make_unique<Scenario>(options);
  try {
    return scenario->run();
  } catch (const SafetyFailure& e) {
    return scenario->fail(e.what());
  }
}

}  // namespace aerov::sim
