// A minimal VirtioDevice for exercising the transport on its own: each
// request on any queue copies its device-readable bytes into its
// device-writable bytes and completes with the number of bytes written.
// Device configuration: {le32 generation_counter (R), le32 scratch (RW)}.
#pragma once

#include <functional>
#include <vector>

#include "transport/device/virtio_device.hpp"

namespace aerov::transport::testing {

class LoopbackDevice final : public VirtioDevice {
 public:
  static constexpr uint64_t kFeatureBit0 = 1ull << 0;  // a device-specific bit

  explicit LoopbackDevice(std::vector<uint16_t> queue_sizes, uint64_t features);

  uint16_t device_type() const override { return 2; }  // presents as blk-shaped
  uint64_t device_features() const override { return features_; }
  uint16_t num_queues() const override { return static_cast<uint16_t>(sizes_.size()); }
  uint16_t queue_size(uint16_t q) const override { return q < sizes_.size() ? sizes_[q] : 0; }
  uint64_t config_read(uint32_t offset, unsigned width) override;
  void config_write(uint32_t offset, unsigned width, uint64_t value) override;
  void activate(DeviceTransport& transport) override;
  void queue_notify(uint16_t q, DeviceTransport& transport) override;
  void reset() override;

  // Host side: changes the configuration at run time (CFG-4).
  void bump_counter();

  // The next this-many config reads each change the configuration first,
  // as a device updating itself mid-read would (CFG-4 retry loop).
  uint32_t unstable_reads = 0;

  // Observes every queue_notify before it is served (for invariants).
  std::function<void(uint16_t q)> on_notify;

  bool active() const { return transport_ != nullptr; }
  uint32_t served() const { return served_; }
  uint32_t chain_errors() const { return chain_errors_; }

 private:
  std::vector<uint16_t> sizes_;
  uint64_t features_;
  uint32_t counter_ = 0;
  uint32_t scratch_ = 0;
  uint32_t served_ = 0;
  uint32_t chain_errors_ = 0;
  DeviceTransport* transport_ = nullptr;
};

}  // namespace aerov::transport::testing
