#include "transport/testing/loopback_device.hpp"

#include <algorithm>
#include <cstring>

namespace aerov::transport::testing {

LoopbackDevice::LoopbackDevice(std::vector<uint16_t> queue_sizes, uint64_t features)
    : sizes_(std::move(queue_sizes)), features_(features) {}

uint64_t LoopbackDevice::config_read(uint32_t offset, unsigned width) {
  if (unstable_reads > 0) {
    --unstable_reads;
    bump_counter();
  }
  uint8_t image[8];
  std::memcpy(image, &counter_, 4);
  std::memcpy(image + 4, &scratch_, 4);
  uint64_t v = 0;
  if (offset + width <= sizeof image) std::memcpy(&v, image + offset, width);
  return v;  // past the structure: 0 (BAR-3)
}

void LoopbackDevice::config_write(uint32_t offset, unsigned width, uint64_t value) {
  if (offset == 4 && width == 4) scratch_ = static_cast<uint32_t>(value);
}

void LoopbackDevice::activate(DeviceTransport& transport) { transport_ = &transport; }

void LoopbackDevice::reset() { transport_ = nullptr; }

void LoopbackDevice::bump_counter() {
  ++counter_;
  if (transport_ != nullptr) transport_->config_changed();
}

void LoopbackDevice::queue_notify(uint16_t q, DeviceTransport& t) {
  if (on_notify) on_notify(q);
  virtqueue::DeviceQueue& ring = t.queue(q);
  virtqueue::DescChain chain;
  std::vector<uint8_t> bytes;
  bool published = false;
  for (uint16_t n = 0; n < ring.size(); ++n) {  // bounded work per doorbell (VQ-8)
    const virtqueue::PopStatus s = ring.pop(chain);
    if (s == virtqueue::PopStatus::kEmpty || s == virtqueue::PopStatus::kRingError) break;
    uint32_t written = 0;
    if (s == virtqueue::PopStatus::kChainError) {
      ++chain_errors_;
    } else {
      bytes.clear();
      for (const auto& seg : chain.segments) {
        if (seg.writable) continue;
        const size_t at = bytes.size();
        bytes.resize(at + seg.len);
        t.memory().read(seg.addr, bytes.data() + at, seg.len);
      }
      size_t from = 0;
      for (const auto& seg : chain.segments) {
        if (!seg.writable || from >= bytes.size()) continue;
        const uint32_t n_copy = static_cast<uint32_t>(std::min<size_t>(seg.len, bytes.size() - from));
        t.memory().write(seg.addr, bytes.data() + from, n_copy);
        from += n_copy;
        written += n_copy;
      }
      ++served_;
    }
    ring.push(chain.head, written);
    published = true;
  }
  if (published) t.used_buffers_published(q);
}

}  // namespace aerov::transport::testing
