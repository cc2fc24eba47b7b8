// libFuzzer target for the virtio-net device model (contract NET-6, NET-7,
// VQ-7, VQ-8): a hostile driver writes arbitrary ring state on rxq and txq
// (descriptors anywhere, indirect tables, avail entries and raw avail.idx,
// buffer bytes), rings doorbells, while the host delivers frames of any
// length, toggles the link and resets the device.
//
// The device is driven directly through a two-queue DeviceTransport (no PCI),
// which behaves like VirtioPciFunction where the device can tell: a ring
// error sets DEVICE_NEEDS_RESET and doorbells are skipped until reset.
//
// Input: a sequence of ops, each an op byte followed by fixed-width
// little-endian fields read front to back (missing bytes read as 0), so
// fuzz/make_net_corpus.py can encode seeds by hand:
//   0 DESC      q u8, index u16, addr_sel u8, addr u64, len u32, flags u16, next u16
//   1 AVAIL     q u8, head u16             (make head available)
//   2 AVAIL_IDX q u8, idx u16              (raw avail.idx write)
//   3 NOTIFY    q u8
//   4 DELIVER   len u16, seed u8           (host frame for the guest)
//   5 POKE      offset u32, n u8, n bytes  (guest writes its buffer area)
//   6 LINK      up u8
//   7 RESET     indirect u8                (device reset, rings reprogrammed)
//   8 TABLE     entry u8, addr_sel u8, addr u64, len u32, flags u16, next u16
// addr_sel bit 0 clear: addr is an offset into the buffer area; set: a raw
// guest-physical address (anything, including the rings themselves).
//
// Checked after every op: TX completes everything it takes (in_flight 0);
// rxq holds at most the one chain the device keeps posted; the host queue
// stays within its cap; every accepted frame is accounted for exactly once
// (written, dropped too-small, dropped as oldest, dropped at reset, or
// still waiting); frames the device accepts are 14..1522 bytes. Used
// lengths are not checked here: the guest may aim an RX buffer at the used
// ring itself, so the ring's contents prove nothing (the unit tests pin
// used.len exactly).
#include "fuzz/fuzz_check.hpp"
#include "fuzz/fuzz_ops.hpp"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "model/devices/net/net_device.hpp"
#include "model/memory/guest_memory.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace {

namespace vq = aerov::virtqueue;
using aerov::model::GuestMemory;
using aerov::model::devices::NetDevice;


constexpr uint64_t kRamBytes = 4ull << 20;
constexpr uint64_t kHighRam = 1ull << 32;
constexpr uint64_t kHighBytes = 1ull << 20;
constexpr uint64_t kRingGpa[2] = {0x10000, 0x20000};
constexpr uint64_t kTableGpa = 0x30000;   // 256 indirect entries
constexpr uint64_t kBufGpa = 0x100000;    // the guest's buffer area
constexpr uint64_t kBufBytes = 0x100000;
constexpr uint16_t kQueueSize = 256;
constexpr uint16_t kSizes[2] = {kQueueSize, kQueueSize};
constexpr int kMaxOps = 1024;

using aerov::fuzz::Reader;
using FuzzTransport = aerov::fuzz::QueueTransport<2>;

uint64_t address(uint8_t sel, uint64_t raw) { return (sel & 1) ? raw : kBufGpa + raw % kBufBytes; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  GuestMemory mem;
  if (mem.add_ram(0, kRamBytes) != aerov::model::MemError::kOk ||
      mem.add_ram(kHighRam, kHighBytes) != aerov::model::MemError::kOk) {
    std::abort();
  }
  NetDevice dev(nullptr);
  FuzzTransport t(mem);
  vq::testing::RingBuilder rings[2] = {{mem, kQueueSize, kRingGpa[0], false, 0},
                                       {mem, kQueueSize, kRingGpa[1], false, 0}};
  uint64_t accepted = 0, dropped_at_reset = 0;

  auto bring_up = [&](bool indirect) {
    t.needs_reset = false;
    t.features = dev.device_features();
    if (!indirect) t.features &= ~(uint64_t{1} << 28);
    for (uint16_t q = 0; q < 2; ++q) {
      t.queue(q).reset();
      mem.write(kRingGpa[q], std::vector<uint8_t>(0x8000, 0).data(), 0x8000);
      if (t.queue(q).configure(mem, rings[q].config(indirect)) != vq::RingError::kNone) std::abort();
    }
    dev.activate(t);
  };
  bring_up(true);

  Reader in(data, size);
  for (int op_count = 0; op_count < kMaxOps && !in.done(); ++op_count) {
    const auto op = static_cast<uint8_t>(in.u8() % 9);
    switch (op) {
      case 0:
      case 1:
      case 2:
        aerov::fuzz::ring_op(op, in, rings, kSizes, address);
        break;
      case 3: {
        const uint8_t q = in.u8() & 1;
        if (!t.needs_reset) {
          dev.queue_notify(q, t);
          if (t.queue(q).ring_error() != vq::RingError::kNone) t.needs_reset = true;
        }
        break;
      }
      case 4: {
        const uint16_t len = in.u16() % 1600;
        const uint8_t seed = in.u8();
        std::vector<uint8_t> frame(len);
        for (uint16_t i = 0; i < len; ++i) frame[i] = static_cast<uint8_t>(seed + i);
        const auto before = dev.stats().rx_overflow;
        if (dev.deliver(frame)) {
          ++accepted;
          FUZZ_CHECK(len >= 14 && len <= 1522);
        }
        FUZZ_CHECK(dev.stats().rx_overflow - before <= 1);
        // The machine would now run process_queue(rxq); do what it does.
        if (!t.needs_reset) {
          dev.queue_notify(NetDevice::kRxQueue, t);
          if (t.queue(0).ring_error() != vq::RingError::kNone) t.needs_reset = true;
        }
        break;
      }
      case 5: {
        const uint32_t offset = in.u32();
        const uint8_t n = in.u8();
        std::vector<uint8_t> bytes(n);
        for (auto& b : bytes) b = in.u8();
        mem.write(kBufGpa + offset % (kBufBytes - 256), bytes.data(), bytes.size());
        break;
      }
      case 6:
        dev.set_link_up((in.u8() & 1) != 0);
        break;
      case 7: {
        const bool indirect = (in.u8() & 1) != 0;
        dropped_at_reset += dev.host_queue_frames();
        dev.reset();
        bring_up(indirect);
        break;
      }
      case 8: {
        const uint8_t entry = in.u8();
        const uint8_t sel = in.u8();
        const uint64_t addr = address(sel, in.u64());
        const uint32_t len = in.u32();
        const uint16_t flags = in.u16();
        const uint16_t next = in.u16();
        rings[0].set_table_entry(kTableGpa, entry, vq::VirtqDesc{addr, len, flags, next});
        break;
      }
    }
    // Invariants after every op.
    const auto& s = dev.stats();
    FUZZ_CHECK(dev.host_queue_frames() <= NetDevice::kHostQueueFrames);
    FUZZ_CHECK(accepted == s.rx_frames + s.rx_too_small + s.rx_overflow + dropped_at_reset +
                                   dev.host_queue_frames());
    if (t.queue(1).ring_error() == vq::RingError::kNone) FUZZ_CHECK(t.queue(1).in_flight() == 0);
    if (t.queue(0).ring_error() == vq::RingError::kNone) {
      FUZZ_CHECK(t.queue(0).in_flight() == (dev.holding_rx_chain() ? 1 : 0));
    }
  }
  return 0;
}
