// Full-stack virtio-net frame rate in one process: the Windows 7 driver
// core (NetCore) -> split virtqueues -> virtio-pci transport
// (VirtioPciFunction, BAR0 doorbells, ISR, INTx) -> virtio-net device model
// (NetDevice) -> LoopbackPeer, and back: every frame the core sends comes
// back through rxq to the core's receive callback.
//
// Case NetLoopback/frame:<bytes>/batch:<n>: one iteration = n frames of
// `bytes` (Ethernet II, no FCS; 64 = minimum-size frame, 1514 = full MTU)
// transmitted back to back (NetCore::transmit: header + one fragment, one
// indirect descriptor, publish, doorbell; the device sends each frame and
// the loopback delivers it into a posted RX buffer at once), then the
// interrupt serviced while INTx is asserted (TX completions reaped, RX
// frames handed up, RX buffers reposted). A frame counts once it has made
// the whole round trip. Each TX slot has its own pre-built guest buffer;
// nothing is allocated in the timed loop.
//
// Counters: frames_per_second (kIsRate, round trips), frame_bytes (pairs the
// case with Baseline_Memcpy/bytes:<frame_bytes>: a round trip copies the
// frame twice, guest -> device and device -> guest).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "aerov/contract/windows_device_contract.hpp"
#include "bench/memcpy_baseline.hpp"
#include "drivers/host/testing/core_machine.hpp"
#include "drivers/windows7/common/net_core.hpp"
#include "model/backends/net/net_backend.hpp"
#include "model/devices/net/net_device.hpp"

namespace {

namespace w7 = aerov::drivers::windows7;
using aerov::drivers::host::testing::CoreMachine;

struct NetStack {
  NetStack() {
    machine.attach(device, aerov::contract::kNet);
    machine.os->trace_mmio(false);
    device.on_rx_pending = [this] {
      machine.function->process_queue(aerov::model::devices::NetDevice::kRxQueue);
    };
    w7::NetCoreConfig cfg{};
    cfg.on_tx_done = &NetStack::on_tx_done;
    cfg.on_receive = &NetStack::on_receive;
    cfg.context = this;
    init_error = core.init(*machine.os, cfg);
  }

  static void on_tx_done(void* context, void*, w7::NetTxResult result) {
    auto* self = static_cast<NetStack*>(context);
    ++self->sent;
    self->failed += result != w7::NetTxResult::kSent;
  }
  static void on_receive(void* context, const uint8_t*, uint32_t length) {
    auto* self = static_cast<NetStack*>(context);
    ++self->received;
    self->bytes += length;
  }

  aerov::model::backends::LoopbackPeer peer;
  aerov::model::devices::NetDevice device{&peer};
  CoreMachine machine;
  w7::NetCore core;
  w7::NetError init_error = w7::NetError::kNone;
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t bytes = 0;
  uint64_t failed = 0;
};

void NetLoopback(benchmark::State& state) {
  const auto bytes = static_cast<uint32_t>(state.range(0));
  const auto batch = static_cast<uint32_t>(state.range(1));
  auto stack = std::make_unique<NetStack>();
  if (stack->init_error != w7::NetError::kNone) {
    state.SkipWithError("net core init failed");
    return;
  }
  std::vector<w7::NetFragment> fragments(batch);
  std::vector<uint8_t> frame(bytes, 0x5A);
  for (uint32_t i = 0; i < batch; ++i) {
    fragments[i] = w7::NetFragment{stack->machine.alloc_buffer(bytes), bytes};
    stack->machine.memory.write(fragments[i].addr, frame.data(), bytes);
  }
  w7::NetCore& core = stack->core;
  aerov::model::irq::IntxLine& intx = stack->machine.intx;
  uint64_t target = 0;
  for (auto _ : state) {
    target += batch;
    for (uint32_t i = 0; i < batch; ++i) {
      if (core.transmit(w7::NetTxFrame{&fragments[i], 1, &fragments[i]}) != w7::NetError::kNone) {
        state.SkipWithError("transmit refused");
        return;
      }
    }
    for (int guard = 0; stack->received != target || stack->sent != target; ++guard) {
      if (intx.level()) {
        core.interrupt();
      } else if (guard > 4) {
        state.SkipWithError("frames lost");
        return;
      }
    }
  }
  if (stack->failed != 0 || stack->bytes != target * bytes) {
    state.SkipWithError("a frame failed or came back wrong");
    return;
  }
  const auto frames = static_cast<double>(state.iterations()) * batch;
  state.counters["frames_per_second"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
  state.counters["frame_bytes"] = benchmark::Counter(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(frames) * bytes);
}

BENCHMARK(NetLoopback)->ArgNames({"frame", "batch"})->ArgsProduct({{64, 1514}, {1, 32}});
BENCHMARK(aerov::bench::Baseline_Memcpy)->Name("Baseline_Memcpy")->ArgName("bytes")->Arg(64)->Arg(1514);

}  // namespace

BENCHMARK_MAIN();
