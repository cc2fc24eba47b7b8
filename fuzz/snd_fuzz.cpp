// libFuzzer target for the virtio-snd device model (contract SND-4..SND-8,
// VQ-7, VQ-8): a hostile driver writes arbitrary ring state on all four
// queues (descriptors anywhere, avail entries and raw avail.idx, buffer
// bytes), sends well- or ill-formed control requests and PCM buffers, rings
// doorbells, while the host lets virtual time pass and resets the device.
//
// The device is driven directly through a four-queue DeviceTransport (no
// PCI), which behaves like VirtioPciFunction where the device can tell: a
// ring error sets DEVICE_NEEDS_RESET and doorbells are skipped until reset.
//
// Input: a sequence of ops, each an op byte followed by fixed-width
// little-endian fields read front to back (missing bytes read as 0), so
// fuzz/make_snd_corpus.py can encode seeds by hand:
//   0 DESC      q u8, index u16, addr_sel u8, addr u64, len u32, flags u16, next u16
//   1 AVAIL     q u8, head u16             (make head available)
//   2 AVAIL_IDX q u8, idx u16              (raw avail.idx write)
//   3 NOTIFY    q u8
//   4 ADVANCE   frames u16                 (virtual time passes)
//   5 POKE      offset u32, n u8, n bytes  (guest writes its buffer area)
//   6 CONTROL   slot u8, resp u8, n u8, n bytes   (request + response place
//               of resp bytes on controlq, descriptors 2*slot and 2*slot+1)
//   7 PCM       q u8, slot u8, stream u32, payload u16, status u8
//               (header, payload, status place of `status` bytes on txq
//               (q even) or rxq (q odd), descriptors 3*slot..3*slot+2)
//   8 RESET
// addr_sel bit 0 clear: addr is an offset into the buffer area; set: a raw
// guest-physical address (anything, including the rings themselves).
//
// Checked after every op, while a queue is not broken: every control chain
// completes at the doorbell (controlq holds nothing); the chains eventq,
// txq and rxq hold are exactly the ones the device says it keeps (events
// held, TX and RX buffers pending), within the ring sizes; RX buffers wait
// only while stream 1 runs and TX buffers only while stream 0 is prepared,
// running or stopped; the sink got exactly 4 bytes per played frame.
#include "fuzz/fuzz_check.hpp"
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz/fuzz_ops.hpp"
#include "model/backends/audio/audio_backend.hpp"
#include "model/devices/snd/snd_device.hpp"
#include "model/memory/guest_memory.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace {

namespace vq = aerov::virtqueue;
namespace wire = aerov::model::devices::snd;
using aerov::model::GuestMemory;
using aerov::model::devices::PcmState;
using aerov::model::devices::SndDevice;

constexpr uint64_t kRamBytes = 4ull << 20;
constexpr uint64_t kRingGpa[4] = {0x10000, 0x20000, 0x30000, 0x40000};
constexpr uint16_t kSizes[4] = {64, 64, 256, 64};
constexpr uint64_t kBufGpa = 0x100000;  // the guest's buffer area
constexpr uint64_t kBufBytes = 0x200000;
constexpr int kMaxOps = 1024;

using aerov::fuzz::Reader;
using FuzzTransport = aerov::fuzz::QueueTransport<4>;

// Counts what it is given instead of keeping it: a run may play a lot.
class CountingSink final : public aerov::model::backends::AudioSink {
 public:
  void write(std::span<const uint8_t> pcm) override { bytes += pcm.size(); }
  uint64_t bytes = 0;
};

uint64_t address(uint8_t sel, uint64_t raw) { return (sel & 1) ? raw : kBufGpa + raw % kBufBytes; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  GuestMemory mem;
  if (mem.add_ram(0, kRamBytes) != aerov::model::MemError::kOk) std::abort();
  CountingSink sink;
  SndDevice dev(&sink, nullptr);
  FuzzTransport t(mem);
  std::vector<vq::testing::RingBuilder> rings;
  for (uint16_t q = 0; q < 4; ++q) rings.emplace_back(mem, kSizes[q], kRingGpa[q], false, 0);

  auto bring_up = [&] {
    t.needs_reset = false;
    t.features = dev.device_features();
    for (uint16_t q = 0; q < 4; ++q) {
      t.queue(q).reset();
      mem.write(kRingGpa[q], std::vector<uint8_t>(0x8000, 0).data(), 0x8000);
      if (t.queue(q).configure(mem, rings[q].config(true)) != vq::RingError::kNone) std::abort();
    }
    dev.activate(t);
  };
  auto notify = [&](uint16_t q) {
    if (t.needs_reset) return;
    dev.queue_notify(q, t);
    for (uint16_t r = 0; r < 4; ++r) {
      if (t.queue(r).ring_error() != vq::RingError::kNone) t.needs_reset = true;
    }
  };
  bring_up();
  uint64_t played_before_reset = 0;

  Reader in(data, size);
  for (int op_count = 0; op_count < kMaxOps && !in.done(); ++op_count) {
    const uint8_t op = in.u8() % 9;
    switch (op) {
      case 0:
      case 1:
      case 2:
        aerov::fuzz::ring_op(op, in, rings.data(), kSizes, address);
        break;
      case 3:
        notify(in.u8() & 3);
        break;
      case 4: {
        const uint16_t frames = in.u16();
        dev.advance(frames);  // owed to running streams...
        notify(SndDevice::kTxQueue);  // ...and paid where the machine would pay it
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
      case 6: {
        const uint16_t slot = in.u8() % 32;
        const uint8_t resp = in.u8();
        const uint8_t n = in.u8();
        std::vector<uint8_t> req(n);
        for (auto& b : req) b = in.u8();
        const uint64_t at = kBufGpa + slot * 512u;
        mem.write(at, req.data(), req.size());
        rings[0].set_desc(2 * slot, at, n, vq::kDescFNext, static_cast<uint16_t>(2 * slot + 1));
        rings[0].set_desc(2 * slot + 1, at + 256, resp, vq::kDescFWrite, 0);
        rings[0].make_available(static_cast<uint16_t>(2 * slot));
        notify(0);
        break;
      }
      case 7: {
        const uint16_t q = (in.u8() & 1) ? SndDevice::kRxQueue : SndDevice::kTxQueue;
        const uint16_t slot = in.u8() % (kSizes[q] / 3);
        const uint32_t stream = in.u32();
        const uint16_t payload = in.u16();
        const uint8_t status = in.u8();
        const uint64_t at = kBufGpa + 0x10000 + slot * 0x4000u;
        const uint8_t hdr[8] = {static_cast<uint8_t>(stream), static_cast<uint8_t>(stream >> 8),
                                static_cast<uint8_t>(stream >> 16), static_cast<uint8_t>(stream >> 24)};
        mem.write(at, hdr, sizeof hdr);
        const uint16_t first = static_cast<uint16_t>(3 * slot);
        const uint16_t pay_flags = q == SndDevice::kRxQueue ? vq::kDescFWrite : 0;
        rings[q].set_desc(first, at, 8, vq::kDescFNext, static_cast<uint16_t>(first + 1));
        rings[q].set_desc(first + 1, at + 16, payload % 0x3F00u, vq::kDescFNext | pay_flags,
                          static_cast<uint16_t>(first + 2));
        rings[q].set_desc(first + 2, at + 0x3F10, status, vq::kDescFWrite, 0);
        rings[q].make_available(first);
        notify(q);
        break;
      }
      case 8:
        played_before_reset += dev.frames_played();
        dev.reset();
        bring_up();
        break;
    }
    // Invariants after every op.
    if (t.queue(0).ring_error() == vq::RingError::kNone) FUZZ_CHECK(t.queue(0).in_flight() == 0);
    if (t.queue(1).ring_error() == vq::RingError::kNone) FUZZ_CHECK(t.queue(1).in_flight() == dev.events_held());
    if (t.queue(2).ring_error() == vq::RingError::kNone) FUZZ_CHECK(t.queue(2).in_flight() == dev.tx_pending());
    if (t.queue(3).ring_error() == vq::RingError::kNone) FUZZ_CHECK(t.queue(3).in_flight() == dev.rx_pending());
    FUZZ_CHECK(dev.tx_pending() <= kSizes[2] && dev.rx_pending() <= kSizes[3]);
    if (dev.rx_pending() != 0) FUZZ_CHECK(dev.state(1) == PcmState::kRunning);
    if (dev.tx_pending() != 0) {
      const PcmState s = dev.state(0);
      FUZZ_CHECK(s == PcmState::kPrepared || s == PcmState::kRunning || s == PcmState::kStopped);
    }
    FUZZ_CHECK(sink.bytes == (played_before_reset + dev.frames_played()) * wire::frame_bytes(0));
  }
  const auto& s = dev.stats();
  aerov::fuzz::trace("snd: ctl ok %llu bad %llu notsupp %llu state %llu; tx %llu rx %llu; pcm bad %llu ioerr %llu "
                     "nostatus %llu; events held %zu rejected %llu; needs_reset %d",
                     (unsigned long long)s.ctl_ok, (unsigned long long)s.ctl_bad_msg,
                     (unsigned long long)s.ctl_not_supp, (unsigned long long)s.ctl_bad_state,
                     (unsigned long long)s.tx_buffers, (unsigned long long)s.rx_buffers,
                     (unsigned long long)s.pcm_bad_msg, (unsigned long long)s.pcm_io_err,
                     (unsigned long long)s.pcm_no_status, dev.events_held(),
                     (unsigned long long)s.event_rejected, t.needs_reset ? 1 : 0);
  return 0;
}
