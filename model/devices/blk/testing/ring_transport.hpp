// A DeviceTransport without PCI: one guest memory and one device ring, for
// driving a device model directly (the blk fuzzer, focused unit tests).
// It behaves like VirtioPciFunction where a device can tell: notify() is
// skipped while DEVICE_NEEDS_RESET is set, a ring error sets it (VQ-8,
// STAT-4), and reset() resets ring and device together (STAT-2).
#pragma once

#include <cstdint>

#include "model/memory/guest_memory.hpp"
#include "transport/device/virtio_device.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::model::devices::testing {

class RingTransport final : public transport::DeviceTransport {
 public:
  RingTransport(GuestMemory& memory, uint64_t negotiated_features)
      : memory_(memory), features_(negotiated_features) {}

  // queue_enable: a bad ring sets needs_reset, as the transport does.
  virtqueue::RingError configure(const virtqueue::DeviceQueueConfig& config);
  // A doorbell (or the host's process_queue) for queue 0.
  void notify(transport::VirtioDevice& device);
  // Device reset: ring and device state are dropped.
  void reset(transport::VirtioDevice& device);

  bool needs_reset() const { return needs_reset_; }
  uint64_t interrupts() const { return interrupts_; }
  uint64_t publishes() const { return publishes_; }

  // transport::DeviceTransport
  GuestMemory& memory() override { return memory_; }
  virtqueue::DeviceQueue& queue(uint16_t) override { return queue_; }
  void used_buffers_published(uint16_t q) override;
  void config_changed() override { ++config_changes_; }
  void set_needs_reset() override { needs_reset_ = true; }
  uint64_t negotiated_features() const override { return features_; }

 private:
  GuestMemory& memory_;
  uint64_t features_;
  virtqueue::DeviceQueue queue_;
  bool needs_reset_ = false;
  uint64_t interrupts_ = 0;
  uint64_t publishes_ = 0;
  uint64_t config_changes_ = 0;
};

}  // namespace aerov::model::devices::testing
