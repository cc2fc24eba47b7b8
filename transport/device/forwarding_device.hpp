// A VirtioDevice that passes every call to another one. Machines and tests
// derive from it to change one thing about a real device model (hide
// features, defer doorbells) without repeating the rest of the interface.
#pragma once

#include "transport/device/virtio_device.hpp"

namespace aerov::transport {

class ForwardingDevice : public VirtioDevice {
 public:
  explicit ForwardingDevice(VirtioDevice& inner) : inner_(inner) {}

  uint16_t device_type() const override { return inner_.device_type(); }
  uint64_t device_features() const override { return inner_.device_features(); }
  uint16_t num_queues() const override { return inner_.num_queues(); }
  uint16_t queue_size(uint16_t q) const override { return inner_.queue_size(q); }
  uint64_t config_read(uint32_t offset, unsigned width) override {
    return inner_.config_read(offset, width);
  }
  void config_write(uint32_t offset, unsigned width, uint64_t value) override {
    inner_.config_write(offset, width, value);
  }
  void activate(DeviceTransport& t) override { inner_.activate(t); }
  void queue_notify(uint16_t q, DeviceTransport& t) override { inner_.queue_notify(q, t); }
  void reset() override { inner_.reset(); }

 protected:
  VirtioDevice& inner() { return inner_; }

 private:
  VirtioDevice& inner_;
};

}  // namespace aerov::transport
