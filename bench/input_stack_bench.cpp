// Full-stack virtio-input event rate in one process: host injection
// (InputDevice::key / mouse_move, what an emulator front end calls) ->
// the device's bounded backlog -> eventq (one 8-byte event per chain) ->
// virtio-pci transport (VirtioPciFunction, used ring, ISR, INTx) -> the
// Windows 7 driver core (InputCore: events reaped, buffers reposted,
// translated) -> one HID input report per batch.
//
// Case InputStack/kind:<0 keyboard, 1 mouse>/batch:<n>: one iteration = n
// batches injected back to back (keyboard: a key press or release, 2 events
// with SYN_REPORT; mouse: a move in X and Y, 3 events), then the interrupt
// serviced while INTx is asserted until all n reports are out. With n above
// 64 / events per batch the backlog holds the rest and the core's reposts
// pull it through. Nothing is allocated in the timed loop.
//
// Counters: events_per_second (kIsRate, virtio events through the stack),
// reports_per_second (kIsRate), event_bytes (8: pairs the case with
// Baseline_Memcpy/bytes:8, the bare copy of one event).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "aerov/contract/windows_device_contract.hpp"
#include "bench/memcpy_baseline.hpp"
#include "drivers/host/testing/core_machine.hpp"
#include "drivers/windows7/common/input_core.hpp"
#include "model/devices/input/input_device.hpp"

namespace {

namespace w7 = aerov::drivers::windows7;
namespace in = aerov::model::devices::input;
using aerov::drivers::host::testing::CoreMachine;
using aerov::model::devices::InputDevice;

struct InputStack {
  explicit InputStack(in::InputKind kind) : device({.kind = kind}) {
    machine.attach(device, aerov::contract::kInput);
    machine.os->trace_mmio(false);
    device.on_events_pending = [this] { machine.function->process_queue(InputDevice::kEventQueue); };
    w7::InputCoreConfig cfg{};
    cfg.on_report = &InputStack::on_report;
    cfg.context = this;
    init_error = core.init(*machine.os, cfg);
  }

  static void on_report(void* context, const uint8_t*, uint32_t) {
    ++static_cast<InputStack*>(context)->reports;
  }

  InputDevice device;
  CoreMachine machine;
  w7::InputCore core;
  w7::InputError init_error = w7::InputError::kNone;
  uint64_t reports = 0;
};

void InputStackCase(benchmark::State& state) {
  const auto kind = static_cast<in::InputKind>(state.range(0));
  const auto batch = static_cast<uint32_t>(state.range(1));
  auto stack = std::make_unique<InputStack>(kind);
  if (stack->init_error != w7::InputError::kNone) {
    state.SkipWithError("input core init failed");
    return;
  }
  InputDevice& device = stack->device;
  w7::InputCore& core = stack->core;
  aerov::model::irq::IntxLine& intx = stack->machine.intx;
  const uint32_t events_per_batch = kind == in::InputKind::kKeyboard ? 2 : 3;
  uint64_t target = 0;
  bool down = false;
  for (auto _ : state) {
    target += batch;
    for (uint32_t i = 0; i < batch; ++i) {
      // Keyboard: alternate press and release so every batch changes the report.
      const bool ok = kind == in::InputKind::kKeyboard ? device.key(in::kKeyA, down = !down)
                                                        : device.mouse_move(3, -2);
      if (!ok) {
        state.SkipWithError("injection refused");
        return;
      }
    }
    for (int guard = 0; stack->reports != target; ++guard) {
      if (intx.level()) {
        core.interrupt();
      } else if (guard > 4) {
        state.SkipWithError("reports lost");
        return;
      }
    }
  }
  if (device.stats().events_dropped != 0 || core.counters().bad_events != 0) {
    state.SkipWithError("events dropped on the way");
    return;
  }
  const auto batches = static_cast<double>(state.iterations()) * batch;
  state.counters["events_per_second"] =
      benchmark::Counter(batches * events_per_batch, benchmark::Counter::kIsRate);
  state.counters["reports_per_second"] = benchmark::Counter(batches, benchmark::Counter::kIsRate);
  state.counters["event_bytes"] = benchmark::Counter(in::kEventBytes);
}

BENCHMARK(InputStackCase)->Name("InputStack")->ArgNames({"kind", "batch"})->ArgsProduct({{0, 1}, {1, 256}});
BENCHMARK(aerov::bench::Baseline_Memcpy)->Name("Baseline_Memcpy")->ArgName("bytes")->Arg(8);

}  // namespace

BENCHMARK_MAIN();
