// Driver end of the virtio-pci modern transport: identity and revision
// check, capability discovery, the init sequence, queue programming,
// doorbells, ISR, device configuration reads and DEVICE_NEEDS_RESET.
// Freestanding; its only access to hardware is PciAccess.
//
// Typical bring-up (STAT-3, DRV-1):
//   attach() -> reset() -> negotiate() -> setup_queue() for each queue
//   -> driver_ok(); on needs_reset(): reset() and start again (STAT-4).
// MSI-X vectors (IRQ-4, DRV-2) are chosen in one place for every core,
// drivers/windows7/common/interrupts.hpp, which calls set_config_vector(),
// set_queue_vector() and, when it falls back to INTx, disable_msix().
#pragma once

#include <stdint.h>

#include "transport/driver/pci_access.hpp"
#include "transport/driver/virtio_pci_caps.hpp"

namespace aerov::transport {

enum class TransportError : uint8_t {
  kNone = 0,
  kNotVirtio,          // vendor is not 0x1AF4 or device ID not modern (PCI-1/2)
  kUnknownRevision,    // VER-1
  kCaps,               // see cap_error()
  kResetTimeout,       // device_status did not read 0 after reset
  kNoVersion1,         // the device does not offer VIRTIO_F_VERSION_1
  kMissingFeatures,    // a feature the driver requires is not offered
  kFeaturesRejected,   // FEATURES_OK did not stick (FEAT-2)
  kQueueIndex,         // queue index >= num_queues or beyond kMaxQueues
  kQueueUnavailable,   // queue_size reads 0
  kQueueNotifyOff,     // doorbell outside the notify region (or != q strictly)
  kConfigUnstable,     // config_generation kept changing
  kConfigRange,        // read beyond the device configuration region
  kNeedsReset,         // the device set DEVICE_NEEDS_RESET
  kVectorRefused,      // an MSI-X vector read back as NO_VECTOR (or changed)
};

const char* to_string(TransportError e);

class VirtioPciDriver {
 public:
  static constexpr uint16_t kMaxQueues = 16;
  static constexpr uint32_t kResetPolls = 1000;
  static constexpr uint32_t kGenerationRetries = 16;

  // Checks identity (PCI-1, PCI-2), revision (VER-1) and capabilities.
  TransportError attach(PciAccess& pci, ValidationMode mode, uint8_t known_revision);

  // Writes 0 to device_status and waits until it reads back 0 (STAT-2).
  TransportError reset();

  // ACKNOWLEDGE, DRIVER, then offers `wanted` & device features (plus
  // VERSION_1, always), sets FEATURES_OK and verifies it stuck. `required`
  // bits missing from the offer fail with kMissingFeatures.
  TransportError negotiate(uint64_t wanted, uint64_t required, uint64_t* accepted);

  TransportError num_queues(uint16_t* out);
  TransportError queue_size(uint16_t queue, uint16_t* out);
  // programs ring addresses and the MSI-X vector (kNoVector for INTx),
  // reads the vector back, then enables the queue. kVectorRefused (queue
  // left disabled) when the device answered NO_VECTOR for a real vector.
  TransportError setup_queue(uint16_t queue, uint64_t desc, uint64_t avail, uint64_t used,
                             uint16_t msix_vector);

  // common cfg msix_config: writes `vector` and reads it back (virtio 1.2
  // 4.1.5.1.2: a device that cannot use a vector answers NO_VECTOR).
  // kVectorRefused when a real vector did not stick; kNoVector always
  // succeeds. Also clears the vector after a reset.
  TransportError set_config_vector(uint16_t vector);
  // queue_msix_vector of `queue` (under the selector lock, CFG-1), read back
  // as above; the queue need not be set up yet.
  TransportError set_queue_vector(uint16_t queue, uint16_t vector);

  // The MSI-X capability's Message Control (0 when the function has none;
  // the walk is bounded and checks every pointer, CAP-3).
  uint16_t msix_message_control();
  // Clears MSI-X Enable so the function goes back to INTA# (IRQ-1), the
  // last step of a fallback when the device refuses every vector. False
  // when there is no MSI-X capability.
  bool disable_msix();
  void driver_ok();
  // Sets FAILED: the driver gives up on the device.
  void fail();

  // NTF-2: 16-bit write of the queue index to its doorbell.
  void notify(uint16_t queue);

  // ISR-2: read-to-acknowledge; bit 0 queue, bit 1 config.
  uint8_t read_isr();

  uint8_t status();
  uint8_t config_generation();
  bool needs_reset() { return (status() & 0x40) != 0; }

  // CFG-4: copies device configuration [offset, offset + len) consistently,
  // re-reading while config_generation changes.
  TransportError read_device_config(uint32_t offset, void* buf, uint32_t len);

  const VirtioPciCaps& caps() const { return caps_; }
  CapError cap_error() const { return cap_error_; }
  uint16_t device_id() const { return device_id_; }
  uint8_t revision() const { return revision_; }
  uint64_t device_features() const { return device_features_; }

 private:
  uint32_t common_read(uint32_t offset, uint8_t width);
  void common_write(uint32_t offset, uint8_t width, uint32_t value);
  void common_write64(uint32_t offset, uint64_t value);
  void set_status_bits(uint8_t bits);
  uint8_t find_msix_capability();

  PciAccess* pci_ = nullptr;
  ValidationMode mode_ = ValidationMode::kStrict;
  VirtioPciCaps caps_{};
  CapError cap_error_ = CapError::kNone;
  uint16_t device_id_ = 0;
  uint8_t revision_ = 0;
  uint64_t device_features_ = 0;
  uint32_t notify_offset_[kMaxQueues] = {};  // doorbell offsets in the notify BAR
  uint16_t queues_ready_ = 0;                // bit q: queue q was set up
};

}  // namespace aerov::transport
