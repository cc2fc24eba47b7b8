// libFuzzer target for the virtio-input device model (contract INP-2,
// INP-4, INP-8, INP-9, VQ-7, VQ-8): a hostile driver writes arbitrary ring
// state on eventq and statusq (descriptors anywhere, avail entries and raw
// avail.idx, buffer bytes), rings doorbells and drives the configuration
// window (select, subsel, any write), while the host injects keys, moves
// and raw batches, and the device is reset.
//
// The device is driven directly through a two-queue DeviceTransport (no PCI),
// which behaves like VirtioPciFunction where the device can tell: a ring
// error sets DEVICE_NEEDS_RESET and doorbells are skipped until reset.
//
// Input: the first byte picks the function (keyboard, mouse, tablet; byte
// % 3), then a sequence of ops, each an op byte followed by fixed-width
// little-endian fields (missing bytes read as 0), so
// fuzz/make_input_corpus.py can encode seeds by hand:
//   0 DESC      q u8, index u16, addr_sel u8, addr u64, len u32, flags u16, next u16
//   1 AVAIL     q u8, head u16
//   2 AVAIL_IDX q u8, idx u16
//   3 NOTIFY    q u8
//   4 KEY       code u16, pressed u8
//   5 MOVE      dx u32, dy u32          (mouse_move, wheel, tablet_position by kind)
//   6 INJECT    n u8, n x {type u16, code u16, value u32}
//   7 SELECT    select u8, subsel u8    (then the whole window is read)
//   8 POKE      offset u32, n u8, n bytes
//   9 RESET     indirect u8
//  10 CFGWRITE  offset u8, width u8, value u64
// addr_sel bit 0 clear: addr is an offset into the buffer area; set: a raw
// guest-physical address.
//
// Checked after every op: no chain stays in flight on either queue (every
// popped chain is completed at once); the backlog stays within 4096 events;
// every queued event is delivered, dropped with its batch, dropped at reset
// or still waiting; the config size is at most 128 and payload bytes past
// it read 0; bytes past the 136-byte window read 0. With AEROV_FUZZ_TRACE=1
// the last line is the run's outcome (the device's counters), which
// make_input_corpus.py --check --replay compares with each seed's intent.
#include "fuzz/fuzz_check.hpp"
#include "fuzz/fuzz_ops.hpp"
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "model/devices/input/input_device.hpp"
#include "model/memory/guest_memory.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace {

namespace vq = aerov::virtqueue;
namespace in = aerov::model::devices::input;
using aerov::model::GuestMemory;
using aerov::model::devices::InputDevice;

constexpr uint64_t kRamBytes = 4ull << 20;
constexpr uint64_t kHighRam = 1ull << 32;
constexpr uint64_t kHighBytes = 1ull << 20;
constexpr uint64_t kRingGpa[2] = {0x10000, 0x20000};
constexpr uint64_t kBufGpa = 0x100000;
constexpr uint64_t kBufBytes = 0x100000;
constexpr uint16_t kQueueSize = 64;
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
  Reader in(data, size);
  aerov::model::devices::InputDeviceOptions options;
  options.kind = static_cast<in::InputKind>(in.u8() % 3);
  options.abs_min = -1000;
  options.abs_max = 70000;
  InputDevice dev(options);
  FuzzTransport t(mem);
  vq::testing::RingBuilder rings[2] = {{mem, kQueueSize, kRingGpa[0], false, 0},
                                       {mem, kQueueSize, kRingGpa[1], false, 0}};

  // The machine runs process_queue(eventq) on injection; do what it does.
  auto run = [&](uint16_t q) {
    if (t.needs_reset) return;
    dev.queue_notify(q, t);
    for (uint16_t k = 0; k < 2; ++k) {
      if (t.queue(k).ring_error() != vq::RingError::kNone) t.needs_reset = true;
    }
  };
  auto bring_up = [&](bool indirect) {
    t.needs_reset = false;
    t.features = dev.device_features();
    if (!indirect) t.features &= ~(uint64_t{1} << 28);
    for (uint16_t q = 0; q < 2; ++q) {
      t.queue(q).reset();
      mem.write(kRingGpa[q], std::vector<uint8_t>(0x2000, 0).data(), 0x2000);
      if (t.queue(q).configure(mem, rings[q].config(indirect)) != vq::RingError::kNone) std::abort();
    }
    dev.activate(t);
  };
  bring_up(true);
  dev.on_events_pending = [&] { run(InputDevice::kEventQueue); };

  for (int op_count = 0; op_count < kMaxOps && !in.done(); ++op_count) {
    const auto op = static_cast<uint8_t>(in.u8() % 11);
    switch (op) {
      case 0:
      case 1:
      case 2:
        aerov::fuzz::ring_op(op, in, rings, kSizes, address);
        break;
      case 3:
        run(in.u8() & 1);
        break;
      case 4: {
        const uint16_t code = in.u16();
        dev.key(code, (in.u8() & 1) != 0);
        break;
      }
      case 5: {
        const auto a = static_cast<int32_t>(in.u32());
        const auto b = static_cast<int32_t>(in.u32());
        switch (dev.kind()) {
          case in::InputKind::kKeyboard: FUZZ_CHECK(!dev.mouse_move(a, b) && !dev.wheel(a, b)); break;
          case in::InputKind::kMouse: dev.mouse_move(a, b); dev.wheel(b, a); break;
          case in::InputKind::kTablet: FUZZ_CHECK(dev.tablet_position(a, b)); break;
        }
        break;
      }
      case 6: {
        const uint8_t n = in.u8() % 80;
        std::vector<in::Event> events(n);
        for (auto& e : events) {
          e.type = in.u16();
          e.code = in.u16();
          e.value = in.u32();
        }
        dev.inject(events);
        break;
      }
      case 7: {
        const uint8_t sel = in.u8();
        const uint8_t subsel = in.u8();
        dev.config_write(in::kConfigSelect, 1, sel);
        dev.config_write(in::kConfigSubsel, 1, subsel);
        FUZZ_CHECK(dev.config_read(in::kConfigSelect, 1) == sel);
        FUZZ_CHECK(dev.config_read(in::kConfigSubsel, 1) == subsel);
        const auto sz = static_cast<uint32_t>(dev.config_read(in::kConfigSize, 1));
        FUZZ_CHECK(sz <= in::kPayloadBytes);
        for (uint32_t off = in::kConfigPayload + sz; off < in::kConfigBytes + 16; ++off) {
          FUZZ_CHECK(dev.config_read(off, 1) == 0);
        }
        const bool known = sel == in::kSelectIdName || sel == in::kSelectIdDevids ||
                           sel == in::kSelectEvBits || sel == in::kSelectAbsInfo;
        if (!known) FUZZ_CHECK(sz == 0);
        break;
      }
      case 8: {
        const uint32_t offset = in.u32();
        const uint8_t n = in.u8();
        std::vector<uint8_t> bytes(n);
        for (auto& b : bytes) b = in.u8();
        mem.write(kBufGpa + offset % (kBufBytes - 256), bytes.data(), bytes.size());
        break;
      }
      case 9: {
        const bool indirect = (in.u8() & 1) != 0;
        dev.reset();
        FUZZ_CHECK(dev.pending_events() == 0 && dev.led_state() == 0);
        bring_up(indirect);
        break;
      }
      case 10: {
        const uint8_t offset = in.u8();
        const unsigned width = 1u << (in.u8() & 3);
        dev.config_write(offset, width, in.u64());
        break;
      }
    }
    const aerov::model::devices::InputStats& s = dev.stats();
    FUZZ_CHECK(dev.pending_events() <= InputDevice::kPendingEvents);
    FUZZ_CHECK(s.events_queued ==
               s.events_delivered + s.events_dropped + s.reset_dropped + dev.pending_events());
    FUZZ_CHECK(dev.led_state() < (1u << in::kLedCount));
    for (uint16_t q = 0; q < 2; ++q) {
      if (t.queue(q).ring_error() == vq::RingError::kNone) FUZZ_CHECK(t.queue(q).in_flight() == 0);
    }
    FUZZ_CHECK(dev.config_read(in::kConfigBytes, 8) == 0);
  }
  const aerov::model::devices::InputStats& s = dev.stats();
  aerov::fuzz::trace("outcome: queued=%llu delivered=%llu dropped=%llu refused=%llu too_small=%llu "
                     "readable=%llu chain_error=%llu status=%llu leds=%llu ignored=%llu bad=%llu "
                     "malformed=%llu oversize=%llu needs_reset=%d",
                     (unsigned long long)s.events_queued, (unsigned long long)s.events_delivered,
                     (unsigned long long)s.events_dropped, (unsigned long long)s.refused,
                     (unsigned long long)s.event_too_small, (unsigned long long)s.event_readable,
                     (unsigned long long)s.event_chain_error, (unsigned long long)s.status_buffers,
                     (unsigned long long)s.status_leds, (unsigned long long)s.status_ignored,
                     (unsigned long long)s.status_bad, (unsigned long long)s.status_malformed,
                     (unsigned long long)s.status_oversize, t.needs_reset ? 1 : 0);
  return 0;
}
