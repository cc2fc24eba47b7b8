// The same-run baseline of the full-stack benchmarks: memcpy bandwidth of
// this machine for the request or frame size (compare.py pairs each case
// with Baseline_Memcpy/bytes:<its request_bytes or frame_bytes>).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace aerov::bench {

// src and dst page-aligned, dst `dst_offset` bytes further on.
inline void memcpy_case(benchmark::State& state, size_t dst_offset) {
  const auto bytes = static_cast<size_t>(state.range(0));
  const size_t span = (bytes + dst_offset + 4095) & ~size_t{4095};
  auto* src = static_cast<uint8_t*>(std::aligned_alloc(4096, span));
  auto* dst = static_cast<uint8_t*>(std::aligned_alloc(4096, span));
  std::memset(src, 0x5A, span);
  std::memset(dst, 0, span);
  for (auto _ : state) {
    benchmark::DoNotOptimize(src);
    std::memcpy(dst + dst_offset, src, bytes);
    benchmark::ClobberMemory();
  }
  std::free(src);
  std::free(dst);
  state.counters["request_bytes"] = benchmark::Counter(static_cast<double>(bytes));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}

// The machine's memcpy bandwidth (compare.py's baseline).
inline void Baseline_Memcpy(benchmark::State& state) { memcpy_case(state, 0); }
// The same copy into a destination 8 bytes into a cache line, like the
// guest buffers CoreMachine hands out (DMA-1); informational: on AMD Zen
// glibc's `rep movsb` path is ~20x slower for it (see bench/README.md).
inline void Baseline_MemcpyDst8(benchmark::State& state) { memcpy_case(state, 8); }

}  // namespace aerov::bench
