// Full-stack virtio-snd playback rate in one process: the Windows 7 driver
// core (SndCore) -> split virtqueues -> virtio-pci transport
// (VirtioPciFunction, BAR0 doorbells, ISR, INTx) -> virtio-snd device model
// (SndDevice) -> an audio sink that counts bytes.
//
// Case SndPlayback/period_frames:<n>: the playback stream runs over a
// cyclic buffer of four periods of n stereo S16 frames. One iteration = one
// period of virtual time: SndDevice::advance(n) plays the period at the
// head of txq (reads it from guest memory, hands it to the sink, completes
// it), then the interrupt is serviced while INTx is asserted (the core
// reaps the period, advances the position and queues the period again).
// Nothing is allocated in the timed loop; after it the position must equal
// the frames played and the device must not have underrun.
//
// Counters: frames_per_second (kIsRate, PCM frames through the stack),
// requests_per_second (periods per second), request_bytes (the period's bytes: compare.py pairs the case with
// Baseline_Memcpy/bytes:<request_bytes> and prints periods/s as Mreq/s and
// the share of the machine's memcpy bandwidth the stack delivers).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "aerov/contract/windows_device_contract.hpp"
#include "bench/memcpy_baseline.hpp"
#include "drivers/host/testing/core_machine.hpp"
#include "drivers/windows7/common/snd_core.hpp"
#include "model/backends/audio/audio_backend.hpp"
#include "model/devices/snd/snd_device.hpp"

namespace {

namespace w7 = aerov::drivers::windows7;
using aerov::drivers::host::testing::CoreMachine;

class CountingSink final : public aerov::model::backends::AudioSink {
 public:
  void write(std::span<const uint8_t> pcm) override { bytes += pcm.size(); }
  uint64_t bytes = 0;
};

struct SndStack {
  SndStack() {
    machine.attach(device, aerov::contract::kSnd);
    machine.os->trace_mmio(false);
    device.on_time_pending = [this] {
      machine.function->process_queue(aerov::model::devices::SndDevice::kTxQueue);
    };
    init_error = core.init(*machine.os, w7::SndCoreConfig{});
  }

  CountingSink sink;
  aerov::model::devices::SndDevice device{&sink, nullptr};
  CoreMachine machine;
  w7::SndCore core;
  w7::SndError init_error = w7::SndError::kNone;
};

void SndPlayback(benchmark::State& state) {
  constexpr uint32_t kPeriods = 4;
  const auto frames = static_cast<uint32_t>(state.range(0));
  const uint32_t period = frames * 4;
  auto stack = std::make_unique<SndStack>();
  if (stack->init_error != w7::SndError::kNone) {
    state.SkipWithError("snd core init failed");
    return;
  }
  const uint64_t gpa = stack->machine.alloc_buffer(kPeriods * period);
  const w7::DmaRegion buffer{stack->machine.memory.translate(gpa, kPeriods * period), gpa};
  w7::SndCore& core = stack->core;
  if (buffer.va == nullptr || core.open(0, buffer, kPeriods * period, period) != w7::SndError::kNone ||
      core.start(0) != w7::SndError::kNone) {
    state.SkipWithError("playback stream did not start");
    return;
  }
  aerov::model::irq::IntxLine& intx = stack->machine.intx;
  for (auto _ : state) {
    stack->device.advance(frames);
    for (int guard = 0; intx.level() && guard < 8; ++guard) core.interrupt();
  }
  const auto played = static_cast<double>(state.iterations()) * frames;
  if (core.bytes_done(0) != state.iterations() * uint64_t{period} || stack->device.stats().underruns != 0 ||
      stack->sink.bytes != core.bytes_done(0)) {
    state.SkipWithError("periods were lost or the device underran");
    return;
  }
  state.counters["frames_per_second"] = benchmark::Counter(played, benchmark::Counter::kIsRate);
  state.counters["requests_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["request_bytes"] = benchmark::Counter(period);
  state.SetBytesProcessed(static_cast<int64_t>(played) * 4);
}

BENCHMARK(SndPlayback)->ArgName("period_frames")->Arg(48)->Arg(480)->Arg(4800);
BENCHMARK(aerov::bench::Baseline_Memcpy)->Name("Baseline_Memcpy")->ArgName("bytes")->Arg(192)->Arg(1920)->Arg(19200);

}  // namespace

BENCHMARK_MAIN();
