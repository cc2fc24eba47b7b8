// Shared by the device-model fuzz targets that read an op script (net,
// input, snd): the script reader, the DeviceTransport they drive a device
// through without PCI, and the raw ring ops every script starts with.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/memory/guest_memory.hpp"
#include "transport/device/virtio_device.hpp"
#include "virtqueue/device/device_queue.hpp"
#include "virtqueue/testing/ring_builder.hpp"

namespace aerov::fuzz {

// Fixed-width little-endian fields read front to back; bytes past the end
// read as 0, so every input is a complete script.
class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool done() const { return at_ >= n_; }
  uint64_t take(unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) {
      if (at_ < n_) v |= uint64_t{d_[at_]} << (8 * i);
      ++at_;
    }
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t at_ = 0;
};

// N queues (a power of two), behaving like VirtioPciFunction where the
// device can tell: a ring error sets needs_reset (the target then skips
// doorbells until reset).
template <uint16_t N>
class QueueTransport final : public transport::DeviceTransport {
  static_assert(N != 0 && (N & (N - 1)) == 0, "queue index is masked with N - 1");

 public:
  explicit QueueTransport(model::GuestMemory& m) : mem_(m) {}
  model::GuestMemory& memory() override { return mem_; }
  virtqueue::DeviceQueue& queue(uint16_t q) override { return queues_[q & (N - 1)]; }
  void used_buffers_published(uint16_t q) override { (void)queues_[q & (N - 1)].should_interrupt(); }
  void config_changed() override {}
  void set_needs_reset() override { needs_reset = true; }
  uint64_t negotiated_features() const override { return features; }

  uint64_t features = 0;
  bool needs_reset = false;

 private:
  model::GuestMemory& mem_;
  virtqueue::DeviceQueue queues_[N];
};

// Ops 0..2 of the device fuzzers' scripts on N raw rings, ring q of
// sizes[q] (q = the script's byte masked with N - 1):
//   0 DESC      q u8, index u16, addr_sel u8, addr u64, len u32, flags u16, next u16
//   1 AVAIL     q u8, head u16             (make head available)
//   2 AVAIL_IDX q u8, idx u16              (raw avail.idx write)
// `address(addr_sel, addr)` gives the guest-physical address.
template <uint16_t N, typename AddressFn>
void ring_op(uint8_t op, Reader& in, virtqueue::testing::RingBuilder* rings, const uint16_t (&sizes)[N],
             AddressFn address) {
  const uint8_t q = in.u8() & (N - 1);
  if (op == 0) {
    const uint16_t index = in.u16();
    const uint8_t sel = in.u8();
    const uint64_t addr = address(sel, in.u64());
    const uint32_t len = in.u32();
    const uint16_t flags = in.u16();
    const uint16_t next = in.u16();
    rings[q].set_desc(index % sizes[q], addr, len, flags, next);
  } else if (op == 1) {
    rings[q].make_available(in.u16());
  } else {
    rings[q].set_avail_idx(in.u16());
  }
}

}  // namespace aerov::fuzz
