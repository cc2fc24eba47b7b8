#include "transport/driver/virtio_pci_driver.hpp"

#include "transport/virtio_pci_regs.hpp"
#include "virtqueue/layout.hpp"

namespace aerov::transport {

const char* to_string(TransportError e) {
  switch (e) {
    case TransportError::kNone: return "none";
    case TransportError::kNotVirtio: return "not a modern virtio-pci function";
    case TransportError::kUnknownRevision: return "unknown PCI revision";
    case TransportError::kCaps: return "virtio capabilities missing or malformed";
    case TransportError::kResetTimeout: return "device did not complete reset";
    case TransportError::kNoVersion1: return "device does not offer VIRTIO_F_VERSION_1";
    case TransportError::kMissingFeatures: return "device lacks a required feature";
    case TransportError::kFeaturesRejected: return "device refused FEATURES_OK";
    case TransportError::kQueueIndex: return "queue index out of range";
    case TransportError::kQueueUnavailable: return "queue size is 0";
    case TransportError::kQueueNotifyOff: return "queue doorbell outside the notify region";
    case TransportError::kConfigUnstable: return "config_generation kept changing";
    case TransportError::kConfigRange: return "read beyond the device configuration";
    case TransportError::kNeedsReset: return "device needs reset";
    case TransportError::kVectorRefused: return "device refused an MSI-X vector";
  }
  return "unknown";
}

namespace {
constexpr uint16_t kVirtioVendor = 0x1AF4;
constexpr uint16_t kModernDeviceIdFirst = 0x1040;  // 0x1000..0x103F are transitional
constexpr uint16_t kModernDeviceIdLast = 0x107F;
}  // namespace

uint32_t VirtioPciDriver::common_read(uint32_t offset, uint8_t width) {
  return pci_->mmio_read(caps_.common.bar, caps_.common.offset + offset, width);
}

void VirtioPciDriver::common_write(uint32_t offset, uint8_t width, uint32_t value) {
  pci_->mmio_write(caps_.common.bar, caps_.common.offset + offset, width, value);
}

// CFG-5: two 32-bit halves, low then high; 8-byte MMIO is not available to
// a 32-bit Windows driver.
void VirtioPciDriver::common_write64(uint32_t offset, uint64_t value) {
  common_write(offset, 4, static_cast<uint32_t>(value));
  common_write(offset + 4, 4, static_cast<uint32_t>(value >> 32));
}

TransportError VirtioPciDriver::attach(PciAccess& pci, ValidationMode mode,
                                       uint8_t known_revision) {
  pci_ = &pci;
  mode_ = mode;
  const uint16_t vendor = static_cast<uint16_t>(pci.config_read(reg::kVendorId, 2));
  device_id_ = static_cast<uint16_t>(pci.config_read(reg::kDeviceId, 2));
  revision_ = static_cast<uint8_t>(pci.config_read(reg::kRevisionId, 1));
  if (vendor != kVirtioVendor || device_id_ < kModernDeviceIdFirst ||
      device_id_ > kModernDeviceIdLast) {
    return TransportError::kNotVirtio;
  }
  if (revision_ != known_revision) return TransportError::kUnknownRevision;
  cap_error_ = parse_virtio_caps(pci, mode, &caps_);
  return cap_error_ == CapError::kNone ? TransportError::kNone : TransportError::kCaps;
}

TransportError VirtioPciDriver::reset() {
  queues_ready_ = 0;
  common_write(common::kDeviceStatus, 1, 0);
  for (uint32_t i = 0; i < kResetPolls; ++i) {
    if (common_read(common::kDeviceStatus, 1) == 0) return TransportError::kNone;
    pci_->stall_us(10);
  }
  return TransportError::kResetTimeout;
}

uint8_t VirtioPciDriver::status() {
  return static_cast<uint8_t>(common_read(common::kDeviceStatus, 1));
}

uint8_t VirtioPciDriver::config_generation() {
  return static_cast<uint8_t>(common_read(common::kConfigGeneration, 1));
}

void VirtioPciDriver::set_status_bits(uint8_t bits) {
  common_write(common::kDeviceStatus, 1, status() | bits);
}

TransportError VirtioPciDriver::negotiate(uint64_t wanted, uint64_t required, uint64_t* accepted) {
  set_status_bits(kStatusAcknowledge);
  set_status_bits(kStatusDriver);
  uint64_t offered = 0;
  {
    PciLock lock(*pci_);  // CFG-1: the select/read pairs must not interleave
    for (uint32_t word = 0; word < 2; ++word) {
      common_write(common::kDeviceFeatureSelect, 4, word);
      offered |= static_cast<uint64_t>(common_read(common::kDeviceFeature, 4)) << (32 * word);
    }
  }
  device_features_ = offered;
  const uint64_t version1 = 1ull << virtqueue::kFVersion1;
  if ((offered & version1) == 0) return TransportError::kNoVersion1;
  if ((offered & required) != required) return TransportError::kMissingFeatures;
  const uint64_t chosen = (offered & wanted) | version1;
  {
    PciLock lock(*pci_);
    for (uint32_t word = 0; word < 2; ++word) {
      common_write(common::kDriverFeatureSelect, 4, word);
      common_write(common::kDriverFeature, 4, static_cast<uint32_t>(chosen >> (32 * word)));
    }
  }
  set_status_bits(kStatusFeaturesOk);
  if ((status() & kStatusFeaturesOk) == 0) return TransportError::kFeaturesRejected;
  *accepted = chosen;
  return TransportError::kNone;
}

TransportError VirtioPciDriver::num_queues(uint16_t* out) {
  *out = static_cast<uint16_t>(common_read(common::kNumQueues, 2));
  return TransportError::kNone;
}

TransportError VirtioPciDriver::queue_size(uint16_t queue, uint16_t* out) {
  uint16_t n = 0;
  num_queues(&n);
  if (queue >= n || queue >= kMaxQueues) return TransportError::kQueueIndex;
  PciLock lock(*pci_);
  common_write(common::kQueueSelect, 2, queue);
  *out = static_cast<uint16_t>(common_read(common::kQueueSize, 2));
  return *out == 0 ? TransportError::kQueueUnavailable : TransportError::kNone;
}

TransportError VirtioPciDriver::setup_queue(uint16_t queue, uint64_t desc, uint64_t avail,
                                            uint64_t used, uint16_t msix_vector) {
  uint16_t n = 0;
  num_queues(&n);
  if (queue >= n || queue >= kMaxQueues) return TransportError::kQueueIndex;
  PciLock lock(*pci_);
  common_write(common::kQueueSelect, 2, queue);
  if (common_read(common::kQueueSize, 2) == 0) return TransportError::kQueueUnavailable;
  const uint32_t notify_off = common_read(common::kQueueNotifyOff, 2);
  const uint64_t doorbell =
      static_cast<uint64_t>(notify_off) * caps_.notify_off_multiplier;
  if (doorbell + 2 > caps_.notify.length ||
      (mode_ == ValidationMode::kStrict && notify_off != queue)) {
    return TransportError::kQueueNotifyOff;
  }
  notify_offset_[queue] = caps_.notify.offset + static_cast<uint32_t>(doorbell);
  queues_ready_ = static_cast<uint16_t>(queues_ready_ | (1u << queue));
  common_write64(common::kQueueDesc, desc);
  common_write64(common::kQueueAvail, avail);
  common_write64(common::kQueueUsed, used);
  common_write(common::kQueueMsixVector, 2, msix_vector);
  if (msix_vector != kNoVector && common_read(common::kQueueMsixVector, 2) != msix_vector) {
    return TransportError::kVectorRefused;  // not enabled: the caller picks another vector
  }
  common_write(common::kQueueEnable, 2, 1);
  return TransportError::kNone;
}

TransportError VirtioPciDriver::set_config_vector(uint16_t vector) {
  common_write(common::kMsixConfig, 2, vector);
  if (vector == kNoVector) return TransportError::kNone;
  return common_read(common::kMsixConfig, 2) == vector ? TransportError::kNone
                                                        : TransportError::kVectorRefused;
}

TransportError VirtioPciDriver::set_queue_vector(uint16_t queue, uint16_t vector) {
  uint16_t n = 0;
  num_queues(&n);
  if (queue >= n || queue >= kMaxQueues) return TransportError::kQueueIndex;
  PciLock lock(*pci_);
  common_write(common::kQueueSelect, 2, queue);
  common_write(common::kQueueMsixVector, 2, vector);
  if (vector == kNoVector) return TransportError::kNone;
  return common_read(common::kQueueMsixVector, 2) == vector ? TransportError::kNone
                                                             : TransportError::kVectorRefused;
}

uint8_t VirtioPciDriver::find_msix_capability() {
  if ((pci_->config_read(reg::kStatus, 2) & reg::kStatusCapabilitiesList) == 0) return 0;
  uint8_t at = static_cast<uint8_t>(pci_->config_read(reg::kCapabilitiesPointer, 1) & 0xFC);
  // At most 48 capabilities fit in 192 bytes; a longer walk is a loop.
  for (uint32_t i = 0; i < 48 && at >= reg::kFirstCapability; ++i) {
    if (pci_->config_read(at, 1) == reg::kCapIdMsix) return at;
    at = static_cast<uint8_t>(pci_->config_read(at + 1u, 1) & 0xFC);
  }
  return 0;
}

uint16_t VirtioPciDriver::msix_message_control() {
  const uint8_t cap = find_msix_capability();
  return cap == 0 ? 0 : static_cast<uint16_t>(pci_->config_read(cap + 2u, 2));
}

bool VirtioPciDriver::disable_msix() {
  const uint8_t cap = find_msix_capability();
  if (cap == 0) return false;
  const uint32_t control = pci_->config_read(cap + 2u, 2);
  pci_->config_write(cap + 2u, 2, control & ~uint32_t{0x8000});  // MSI-X Enable
  return true;
}

void VirtioPciDriver::driver_ok() { set_status_bits(kStatusDriverOk); }

void VirtioPciDriver::fail() { set_status_bits(kStatusFailed); }

void VirtioPciDriver::notify(uint16_t queue) {
  if (queue >= kMaxQueues || (queues_ready_ & (1u << queue)) == 0) return;
  pci_->mmio_write(caps_.notify.bar, notify_offset_[queue], 2, queue);
}

uint8_t VirtioPciDriver::read_isr() {
  return static_cast<uint8_t>(pci_->mmio_read(caps_.isr.bar, caps_.isr.offset, 1));
}

TransportError VirtioPciDriver::read_device_config(uint32_t offset, void* buf, uint32_t len) {
  if (static_cast<uint64_t>(offset) + len > caps_.device.length) return TransportError::kConfigRange;
  auto* out = static_cast<uint8_t*>(buf);
  for (uint32_t attempt = 0; attempt < kGenerationRetries; ++attempt) {
    const uint32_t before = common_read(common::kConfigGeneration, 1);
    for (uint32_t at = 0; at < len;) {
      // Natural widths: the largest aligned access that fits.
      const uint32_t pos = offset + at;
      const uint8_t width = (pos % 4 == 0 && len - at >= 4) ? 4 : (pos % 2 == 0 && len - at >= 2) ? 2 : 1;
      const uint32_t v = pci_->mmio_read(caps_.device.bar, caps_.device.offset + pos, width);
      for (uint8_t b = 0; b < width; ++b) out[at + b] = static_cast<uint8_t>(v >> (8 * b));
      at += width;
    }
    if (common_read(common::kConfigGeneration, 1) == before) return TransportError::kNone;
  }
  return TransportError::kConfigUnstable;
}

}  // namespace aerov::transport
