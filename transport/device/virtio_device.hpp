// The seam between the generic virtio-pci transport and a device model.
//
// A device model (blk, net, input, snd) implements VirtioDevice: what it
// offers and how it serves its queues. The transport (VirtioPciFunction)
// owns everything generic and hands the device a DeviceTransport for its
// side effects: ring access, interrupts, config changes, DEVICE_NEEDS_RESET.
#pragma once

#include <cstdint>

#include "model/memory/guest_memory.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::transport {

class DeviceTransport {
 public:
  // Guest memory for DMA; the transport calls the device only while Bus
  // Master is enabled (BAR-4).
  virtual model::GuestMemory& memory() = 0;
  virtual virtqueue::DeviceQueue& queue(uint16_t q) = 0;
  // After publishing used entries on q: interrupts the driver unless it
  // suppressed them (IRQ-2).
  virtual void used_buffers_published(uint16_t q) = 0;
  // The device changed its configuration at run time (CFG-4, IRQ-3).
  virtual void config_changed() = 0;
  // Unrecoverable ring-level error (STAT-4).
  virtual void set_needs_reset() = 0;
  virtual uint64_t negotiated_features() const = 0;

 protected:
  ~DeviceTransport() = default;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  // Virtio device type (net 1, blk 2, input 18, snd 25); PCI device ID is
  // 0x1040 + type (PCI-2).
  virtual uint16_t device_type() const = 0;
  virtual uint64_t device_features() const = 0;
  virtual uint16_t num_queues() const = 0;
  virtual uint16_t queue_size(uint16_t q) const = 0;

  // Device configuration window (BAR0 + 0x3000, 0x100 bytes); reads past the
  // device's structure return 0 (BAR-3), width is 1, 2, 4 or 8.
  virtual uint64_t config_read(uint32_t offset, unsigned width) = 0;
  virtual void config_write(uint32_t offset, unsigned width, uint64_t value) = 0;

  // The driver set DRIVER_OK with these negotiated features.
  virtual void activate(DeviceTransport& transport) = 0;
  // Queue q was notified (NTF-2). Serve at most its queue size chains (VQ-8).
  virtual void queue_notify(uint16_t q, DeviceTransport& transport) = 0;
  // Device reset (STAT-2): drop all in-flight state.
  virtual void reset() = 0;
};

}  // namespace aerov::transport
