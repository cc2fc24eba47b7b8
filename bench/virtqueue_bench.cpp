// Round-trip cost of the split virtqueue: one request through
//   DriverQueue::add -> publish -> DeviceQueue::pop -> push -> DriverQueue::get_used
// over one guest memory (QueuePair), one round trip per benchmark iteration.
//
// Counters in every case:
//   items_per_second   round trips per second
//   ns_per_roundtrip   CPU ns per round trip (== time per iteration)
//   descs              descriptors moved per round trip (ring + indirect
//                      table); bench/compare.py pairs each case with
//                      Baseline_RawRingCopy/<descs>
//
// Baseline_RawRingCopy/<n> moves the same ring bytes with no checks at all:
// n descriptors + avail slot + avail.idx written and read back, one used
// element + used.idx written and read back, plain memcpy in a host array.
// The ratio case / baseline is the price of the hardened, shadowed rings.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "model/memory/guest_memory.hpp"
#include "virtqueue/device/device_queue.hpp"
#include "virtqueue/driver/driver_queue.hpp"
#include "virtqueue/layout.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace {

namespace vq = aerov::virtqueue;
using aerov::model::GuestMemory;
using aerov::model::MemError;
using vq::testing::QueuePair;
using vq::testing::QueuePairOptions;

constexpr uint16_t kQueueSize = 256;
constexpr uint64_t kGuestBytes = 16ull << 20;  // ring 0x10000, pool 0x100000, data 0x200000+
constexpr uint64_t kDataGpa = 0x200000;

void set_counters(benchmark::State& state, uint32_t descs) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  // value 1e-9 per iteration, as a rate, inverted: seconds * 1e9 / iterations.
  state.counters["ns_per_roundtrip"] =
      benchmark::Counter(1e-9, benchmark::Counter::kIsIterationInvariantRate |
                                   benchmark::Counter::kInvert);
  state.counters["descs"] = benchmark::Counter(descs);
}

// One request shape through a fresh QueuePair, one round trip per iteration.
void round_trip(benchmark::State& state, const std::vector<vq::Segment>& segs,
                uint16_t indirect_max, uint32_t descs_moved) {
  GuestMemory mem;
  if (mem.add_ram(0, kGuestBytes) != MemError::kOk) {
    state.SkipWithError("guest memory");
    return;
  }
  QueuePairOptions o;
  o.size = kQueueSize;
  o.indirect_max = indirect_max;
  o.indirect_min_segments = 2;
  QueuePair qp(mem, o);
  vq::DescChain chain;
  chain.segments.reserve(segs.size());
  uint32_t writable = 0;
  for (const vq::Segment& s : segs) writable += s.device_writable ? s.len : 0;
  const auto count = static_cast<uint16_t>(segs.size());
  int token = 0;
  void* const cookie = &token;

  for (auto _ : state) {
    // Driver: place and publish the request.
    if (qp.driver.add(segs.data(), count, cookie) != vq::DriverStatus::kOk) {
      state.SkipWithError("add failed");
      break;
    }
    qp.driver.publish();
    // Device: take the chain and complete it.
    if (qp.device.pop(chain) != vq::PopStatus::kChain) {
      state.SkipWithError("pop did not return a valid chain");
      break;
    }
    qp.device.push(chain.head, writable);
    // Driver: reap the completion.
    vq::UsedBuffer used;
    if (qp.driver.get_used(&used) != vq::DriverStatus::kOk || used.cookie != cookie ||
        used.len != writable) {
      state.SkipWithError("get_used failed");
      break;
    }
    benchmark::DoNotOptimize(used);
  }
  set_counters(state, descs_moved);
}

std::vector<vq::Segment> blk_request(uint16_t data_segments) {
  // virtio-blk shape (BLK-4): 16-byte readable header, data, 1-byte status.
  std::vector<vq::Segment> segs;
  segs.push_back({kDataGpa, 16, false});
  const uint32_t data_len = data_segments == 1 ? 4096 : 512;
  for (uint16_t i = 0; i < data_segments; ++i) {
    segs.push_back({kDataGpa + 0x1000 + 0x1000ull * i, data_len, true});
  }
  segs.push_back({kDataGpa + 0x100, 1, true});
  return segs;
}

void RoundTrip_1Desc(benchmark::State& state) {
  round_trip(state, {{kDataGpa, 64, true}}, 0, 1);
}

void RoundTrip_Blk3Desc_Direct(benchmark::State& state) {
  round_trip(state, blk_request(1), 0, 3);
}

void RoundTrip_16Desc_Indirect(benchmark::State& state) {
  // One ring descriptor plus a 16-entry table.
  round_trip(state, blk_request(14), 16, 17);
}

void RoundTrip_16Desc_Direct(benchmark::State& state) {
  round_trip(state, blk_request(14), 0, 16);
}

void Baseline_RawRingCopy(benchmark::State& state) {
  const auto n = static_cast<uint16_t>(state.range(0));
  const vq::RingLayout l = vq::ring_layout(kQueueSize, false);
  std::vector<uint8_t> ring(l.total_bytes + 16ull * n);  // + room for a table
  uint8_t* const desc = ring.data() + l.desc_offset;
  uint8_t* const avail = ring.data() + l.avail_offset;
  uint8_t* const used = ring.data() + l.used_offset;
  std::vector<vq::VirtqDesc> src(n), dst(n);
  for (uint16_t i = 0; i < n; ++i) {
    src[i] = vq::VirtqDesc{kDataGpa + 0x1000ull * i, 512, vq::kDescFNext, static_cast<uint16_t>(i + 1)};
  }
  uint16_t idx = 0;
  for (auto _ : state) {
    const uint16_t slot = idx & (kQueueSize - 1);
    const uint16_t head = 0;
    ++idx;
    // "Driver": descriptors, avail slot, avail.idx.
    std::memcpy(desc, src.data(), 16ull * n);
    std::memcpy(avail + 4 + 2 * slot, &head, 2);
    std::memcpy(avail + 2, &idx, 2);
    benchmark::ClobberMemory();
    // "Device": avail.idx, slot, descriptors; used element, used.idx.
    uint16_t seen_idx, seen_head;
    std::memcpy(&seen_idx, avail + 2, 2);
    std::memcpy(&seen_head, avail + 4 + 2 * slot, 2);
    std::memcpy(dst.data(), desc + 16ull * seen_head, 16ull * n);
    const vq::VirtqUsedElem e{seen_head, 513};
    std::memcpy(used + 4 + 8 * slot, &e, 8);
    std::memcpy(used + 2, &seen_idx, 2);
    benchmark::ClobberMemory();
    // "Driver": used.idx and the element.
    uint16_t used_idx;
    vq::VirtqUsedElem got;
    std::memcpy(&used_idx, used + 2, 2);
    std::memcpy(&got, used + 4 + 8 * slot, 8);
    benchmark::DoNotOptimize(used_idx);
    benchmark::DoNotOptimize(got);
    benchmark::DoNotOptimize(dst.data());
  }
  set_counters(state, n);
}

BENCHMARK(RoundTrip_1Desc);
BENCHMARK(RoundTrip_Blk3Desc_Direct);
BENCHMARK(RoundTrip_16Desc_Indirect);
BENCHMARK(RoundTrip_16Desc_Direct);
BENCHMARK(Baseline_RawRingCopy)->Arg(1)->Arg(3)->Arg(16)->Arg(17);

}  // namespace

BENCHMARK_MAIN();
