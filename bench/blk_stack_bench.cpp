// Full-stack virtio-blk throughput in one process: the Windows 7 driver core
// (BlkCore) -> split virtqueue -> virtio-pci transport (VirtioPciFunction,
// BAR0 doorbell, ISR, INTx) -> virtio-blk device model (BlkDevice) ->
// RamDisk, on CoreMachine's guest RAM and PCI bus.
//
// Cases Blk{Read,Write}/bytes:<request bytes>/qd:<queue depth>/region_mib:<r>:
//   one iteration = `depth` requests of `bytes` submitted back to back
//   (BlkCore::submit: chain build, publish, doorbell), then the interrupt
//   serviced while INTx is asserted (BlkCore::interrupt: ISR read, used
//   ring drained, one completion callback per request). RamDisk is a
//   synchronous backend, so the device serves each chain inside its
//   doorbell and the completions wait in the used ring until the interrupt
//   is serviced: depth is how many completions one interrupt reaps.
//   Sectors are random (fixed seed), aligned to the request size, over the
//   first r MiB of a 64 MiB disk that is written in full before timing, so
//   reads copy real data (not the sparse disk's zero fill). r = 4 keeps the
//   disk data cache-resident (L3 32 MiB here), r = 64 makes most requests
//   miss to DRAM. Each request
//   has its own pre-built BlkRequest and guest buffer; nothing is
//   allocated in the timed loop.
//
// Counters: requests_per_second (kIsRate), bytes_per_second
// (SetBytesProcessed), request_bytes (picks the baseline in compare.py).
//
// Baseline_Memcpy/<bytes>: memcpy of `bytes` between two fixed page-aligned
// host buffers (hot in cache), the machine's copy bandwidth; the data copy
// is the only work a request cannot avoid. Baseline_MemcpyDst8/<bytes>: the
// same with the destination 8 bytes further on (informational).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "aerov/contract/windows_device_contract.hpp"
#include "bench/memcpy_baseline.hpp"
#include "drivers/host/testing/core_machine.hpp"
#include "drivers/windows7/common/blk_core.hpp"
#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"

namespace {

namespace w7 = aerov::drivers::windows7;
using aerov::drivers::host::testing::CoreMachine;
using aerov::model::backends::RamDisk;
using aerov::model::devices::BlkDevice;

constexpr uint64_t kDiskBytes = 64ull << 20;  // all written before timing
constexpr uint64_t kDiskSectors = kDiskBytes / 512;
constexpr size_t kSectorTable = 4096;           // power of two

// One disk, one device, one core on one machine. Member order is
// destruction order in reverse: the function (in machine) refers to the
// device, the device to the disk.
struct BlkStack {
  BlkStack() {
    // Fill the region so reads copy data rather than zeroes.
    std::vector<uint8_t> chunk(RamDisk::kChunkBytes);
    for (uint64_t at = 0; at < kDiskBytes; at += chunk.size()) {
      std::memset(chunk.data(), static_cast<int>(at >> 16), chunk.size());
      aerov::model::backends::write_sync(ram, at / 512, chunk);
    }
    machine.attach(device, aerov::contract::kBlk);
    machine.os->trace_mmio(false);  // the OS services would log every doorbell
    pending.assign(256, nullptr);
    w7::BlkCoreConfig cfg{};
    cfg.on_complete = &BlkStack::on_complete;
    cfg.context = this;
    cfg.pending = pending.data();
    cfg.pending_capacity = static_cast<uint16_t>(pending.size());
    init_error = core.init(*machine.os, cfg);
  }

  static void on_complete(void* context, w7::BlkRequest*, w7::BlkResult result) {
    auto* self = static_cast<BlkStack*>(context);
    ++self->completed;
    self->failed += result != w7::BlkResult::kSuccess;
  }

  RamDisk ram{kDiskSectors};
  BlkDevice device{ram};
  CoreMachine machine;
  w7::BlkCore core;
  std::vector<w7::BlkRequest*> pending;
  w7::BlkError init_error = w7::BlkError::kNone;
  uint64_t completed = 0;
  uint64_t failed = 0;
};

void blk_case(benchmark::State& state, w7::BlkOp op) {
  const auto bytes = static_cast<uint32_t>(state.range(0));
  const auto depth = static_cast<uint32_t>(state.range(1));
  const uint64_t region = static_cast<uint64_t>(state.range(2)) << 20;
  auto stack = std::make_unique<BlkStack>();
  if (stack->init_error != w7::BlkError::kNone) {
    state.SkipWithError("blk core init failed");
    return;
  }
  // Pre-built requests, one guest buffer each (alternating low and high RAM).
  std::vector<w7::BlkSgElement> sg(depth);
  std::vector<w7::BlkRequest> reqs(depth);
  std::vector<uint8_t> pattern(bytes, 0x5A);
  for (uint32_t i = 0; i < depth; ++i) {
    sg[i] = w7::BlkSgElement{stack->machine.alloc_buffer(bytes), bytes};
    stack->machine.memory.write(sg[i].addr, pattern.data(), bytes);
    reqs[i] = w7::BlkRequest{};
    reqs[i].op = op;
    reqs[i].sector_count = bytes / 512;
    reqs[i].sg = &sg[i];
    reqs[i].sg_count = 1;
    reqs[i].cookie = &reqs[i];
  }
  std::vector<uint64_t> sectors(kSectorTable);
  std::mt19937_64 rng(20261125);
  const uint64_t slots = region / bytes;
  for (uint64_t& s : sectors) s = (rng() % slots) * (bytes / 512);

  w7::BlkCore& core = stack->core;
  aerov::model::irq::IntxLine& intx = stack->machine.intx;
  size_t next = 0;
  uint64_t target = 0;
  for (auto _ : state) {
    target += depth;
    for (uint32_t i = 0; i < depth; ++i) {
      reqs[i].sector = sectors[next++ & (kSectorTable - 1)];
      if (core.submit(&reqs[i]) != w7::BlkError::kNone) {
        state.SkipWithError("submit refused");
        return;
      }
    }
    // Service until every request has completed: interrupts while the line
    // is up; an asynchronous backend would also need process_queue(0).
    for (int guard = 0; stack->completed != target; ++guard) {
      if (intx.level()) {
        core.interrupt();
      } else if (stack->device.in_flight() != 0) {
        stack->machine.function->process_queue(0);
      } else if (guard > 4) {
        state.SkipWithError("requests lost");
        return;
      }
    }
  }
  if (stack->failed != 0) {
    state.SkipWithError("a request failed");
    return;
  }
  const auto requests = static_cast<double>(state.iterations()) * depth;
  state.counters["requests_per_second"] =
      benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["request_bytes"] = benchmark::Counter(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(requests) * bytes);
}

void BlkRead(benchmark::State& state) { blk_case(state, w7::BlkOp::kRead); }
void BlkWrite(benchmark::State& state) { blk_case(state, w7::BlkOp::kWrite); }

void blk_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bytes", "qd", "region_mib"});
  for (int64_t region_mib : {4, 64}) {
    for (int64_t bytes : {4096, 65536}) {
      for (int64_t qd : {1, 32}) b->Args({bytes, qd, region_mib});
    }
  }
}

BENCHMARK(BlkRead)->Apply(blk_args);
BENCHMARK(BlkWrite)->Apply(blk_args);
BENCHMARK(aerov::bench::Baseline_Memcpy)->Name("Baseline_Memcpy")->ArgName("bytes")->Arg(4096)->Arg(65536);
BENCHMARK(aerov::bench::Baseline_MemcpyDst8)->Name("Baseline_MemcpyDst8")->ArgName("bytes")->Arg(4096)->Arg(65536);

}  // namespace

BENCHMARK_MAIN();
