#include "transport/device/virtio_pci_function.hpp"

#include <array>
#include <cstring>

#include "model/pci/msix_capability.hpp"
#include "transport/virtio_pci_regs.hpp"
#include "virtqueue/layout.hpp"

namespace aerov::transport {

namespace {

using model::pci::BarSpec;
using model::pci::BarType;

bool in_region(uint64_t offset, unsigned width, uint64_t base, uint64_t length) {
  return offset >= base && offset + width <= base + length;
}

// struct virtio_pci_cap after {cap_vndr, cap_next}: cap_len, cfg_type, bar,
// id, padding[2], offset, length (+ notify_off_multiplier).
std::vector<uint8_t> virtio_cap_body(VirtioCapType type, uint32_t offset, uint32_t length,
                                     std::optional<uint32_t> multiplier) {
  const uint8_t cap_len = multiplier ? kVirtioNotifyCapLenMin : kVirtioCapLenMin;
  std::vector<uint8_t> b(cap_len - 2, 0);
  b[0] = cap_len;
  b[1] = static_cast<uint8_t>(type);
  b[2] = 0;  // BAR0 (CAP-1)
  std::memcpy(&b[kVirtioCapOffset - 2], &offset, 4);
  std::memcpy(&b[kVirtioCapLength - 2], &length, 4);
  if (multiplier) std::memcpy(&b[kVirtioCapNotifyMultiplier - 2], &*multiplier, 4);
  return b;
}

}  // namespace

PciIdentity contract_identity(const contract::DeviceSpec& device, uint8_t function) {
  uint16_t subsystem = 0;
  for (uint8_t i = 0; i < device.num_functions; ++i) {
    if (device.functions[i].function == function) subsystem = device.functions[i].subsystem_id;
  }
  return PciIdentity{contract::kVendorId, device.device_id, device.subsystem_vendor_id,
                     subsystem, device.revision, device.class_base, device.class_sub,
                     device.class_prog_if, function == 0 && device.num_functions > 1};
}

VirtioPciFunction::VirtioPciFunction(VirtioDevice& device, model::GuestMemory& memory,
                                     const PciIdentity& identity, VirtioPciOptions options)
    : device_(device), memory_(memory), intx_(options.intx), queues_(device.num_queues()) {
  if (intx_ != nullptr) intx_source_ = intx_->add_source();
  if (options.msix_vectors != 0) {
    const uint16_t n = options.msix_vectors > kMsixVectorsMax ? kMsixVectorsMax
                                                              : options.msix_vectors;
    msix_.emplace(n, std::move(options.msi_sink));
  }
  build_config_space(identity);
}

void VirtioPciFunction::build_config_space(const PciIdentity& id) {
  auto& cfg = config();
  cfg.set_ids(id.vendor_id, id.device_id);              // PCI-1, PCI-2
  cfg.set_revision_id(id.revision);                     // PCI-3
  cfg.set_subsystem_ids(id.subsystem_vendor_id, id.subsystem_id);  // PCI-4
  cfg.set_class_code(id.class_base, id.class_sub, id.class_prog_if);  // PCI-7
  cfg.set_multi_function(id.multi_function);            // PCI-6
  cfg.set_interrupt_pin(1);                             // PCI-5: INTA#
  declare_bar(0, BarSpec{bar0::kSize, BarType::kMemory64, false});  // BAR-1
  // CAP-1, BAR-2, NTF-1: the four virtio capabilities, all in BAR0.
  const auto add = [&](VirtioCapType t, uint32_t off, uint32_t len, std::optional<uint32_t> m) {
    const auto body = virtio_cap_body(t, off, len, m);
    cfg.add_capability(reg::kCapIdVendorSpecific, body);
  };
  add(VirtioCapType::kCommon, bar0::kCommonOffset, bar0::kCommonLength, std::nullopt);
  add(VirtioCapType::kNotify, bar0::kNotifyOffset, bar0::kNotifyLength,
      bar0::kNotifyOffMultiplier);
  add(VirtioCapType::kIsr, bar0::kIsrOffset, bar0::kIsrLength, std::nullopt);
  add(VirtioCapType::kDevice, bar0::kDeviceOffset, bar0::kDeviceLength, std::nullopt);
  if (msix_) {
    const model::pci::MsixCapabilityLayout layout{msix_->vector_count(), 0, kMsixTableOffset, 0,
                                                  kMsixPbaOffset};
    msix_cap_ = model::pci::add_msix_capability(cfg, layout).value_or(0);
  }
}

// ---- BAR0 dispatch ---------------------------------------------------------

uint64_t VirtioPciFunction::on_mmio_read(uint8_t bar, uint64_t offset, unsigned width) {
  if (bar != 0) return 0;
  if (in_region(offset, width, bar0::kCommonOffset, bar0::kCommonLength)) {
    return common_read(static_cast<uint32_t>(offset), width);
  }
  if (in_region(offset, width, bar0::kIsrOffset, bar0::kIsrLength)) {
    return offset == bar0::kIsrOffset ? read_isr() : 0;
  }
  if (in_region(offset, width, bar0::kDeviceOffset, bar0::kDeviceLength)) {
    return device_.config_read(static_cast<uint32_t>(offset - bar0::kDeviceOffset), width);
  }
  if (msix_ && in_region(offset, width, kMsixTableOffset, msix_->table_bytes())) {
    return msix_->table_read(offset - kMsixTableOffset, width);
  }
  if (msix_ && in_region(offset, width, kMsixPbaOffset, msix_->pba_bytes())) {
    return msix_->pba_read(offset - kMsixPbaOffset, width);
  }
  return 0;  // doorbells and undefined offsets (BAR-3)
}

void VirtioPciFunction::on_mmio_write(uint8_t bar, uint64_t offset, unsigned width,
                                      uint64_t value) {
  if (bar != 0) return;
  if (in_region(offset, width, bar0::kCommonOffset, bar0::kCommonLength)) {
    common_write(static_cast<uint32_t>(offset), width, value);
  } else if (in_region(offset, width, bar0::kNotifyOffset, bar0::kNotifyLength)) {
    // NTF-2: 16- or 32-bit writes at 4 * queue; the address selects the queue.
    const uint64_t rel = offset - bar0::kNotifyOffset;
    if ((width == 2 || width == 4) && rel % bar0::kNotifyOffMultiplier == 0) {
      doorbell(static_cast<uint16_t>(rel / bar0::kNotifyOffMultiplier));
    }
  } else if (in_region(offset, width, bar0::kDeviceOffset, bar0::kDeviceLength)) {
    device_.config_write(static_cast<uint32_t>(offset - bar0::kDeviceOffset), width, value);
  } else if (msix_ && in_region(offset, width, kMsixTableOffset, msix_->table_bytes())) {
    msix_->table_write(offset - kMsixTableOffset, width, value);
  }
  // ISR is read-only; everything else is undefined (BAR-3).
}

void VirtioPciFunction::on_config_write(uint16_t offset, unsigned width, uint32_t) {
  if (msix_ && msix_cap_ != 0 && model::pci::touches_msix_control(msix_cap_, offset, width)) {
    msix_->write_message_control(config().u16(msix_cap_ + model::pci::kMsixMessageControl));
  }
  // Command (INTx Disable) or MSI-X Enable may have changed where the
  // pending interrupt goes.
  update_intx();
}

// ---- Common configuration (contract section 3) -----------------------------

VirtioPciFunction::QueueState* VirtioPciFunction::selected_queue() {
  return queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;  // CFG-3
}

uint64_t VirtioPciFunction::common_read(uint32_t offset, unsigned width) const {
  // Reads have no side effects, so any width at any offset is answered from
  // a snapshot of the 56-byte structure; bytes past it read 0.
  std::array<uint8_t, 64> image{};
  const auto put = [&](uint32_t at, uint64_t v, unsigned n) { std::memcpy(&image[at], &v, n); };
  const uint64_t offered = device_.device_features();
  // CFG-2: selectors other than 0 and 1 read 0.
  const uint32_t feature_word =
      device_feature_select_ < 2 ? static_cast<uint32_t>(offered >> (32 * device_feature_select_))
                                 : 0;
  const uint32_t driver_word =
      driver_feature_select_ < 2
          ? static_cast<uint32_t>(driver_features_ >> (32 * driver_feature_select_))
          : 0;
  put(common::kDeviceFeatureSelect, device_feature_select_, 4);
  put(common::kDeviceFeature, feature_word, 4);
  put(common::kDriverFeatureSelect, driver_feature_select_, 4);
  put(common::kDriverFeature, driver_word, 4);
  put(common::kMsixConfig, msix_ ? msix_config_ : kNoVector, 2);
  put(common::kNumQueues, queues_.size(), 2);
  put(common::kDeviceStatus, status_, 1);
  put(common::kConfigGeneration, config_generation_, 1);
  put(common::kQueueSelect, queue_select_, 2);
  if (queue_select_ < queues_.size()) {
    const QueueState& q = queues_[queue_select_];
    put(common::kQueueSize, device_.queue_size(queue_select_), 2);
    put(common::kQueueMsixVector, msix_ ? q.msix_vector : kNoVector, 2);
    put(common::kQueueEnable, q.enabled ? 1 : 0, 2);
    put(common::kQueueNotifyOff, queue_select_, 2);  // NTF-1
    put(common::kQueueDesc, q.desc, 8);
    put(common::kQueueAvail, q.avail, 8);
    put(common::kQueueUsed, q.used, 8);
  } else {
    put(common::kQueueMsixVector, kNoVector, 2);
  }
  uint64_t v = 0;
  if (offset + width <= image.size()) std::memcpy(&v, &image[offset], width);
  return v;
}

void VirtioPciFunction::common_write(uint32_t offset, unsigned width, uint64_t value) {
  const auto v32 = static_cast<uint32_t>(value);
  const auto v16 = static_cast<uint16_t>(value);
  // Writes must hit one field at its natural width (or a 4-byte half of a
  // 64-bit field, CFG-5); anything else is ignored.
  if (offset >= common::kQueueDesc && offset < common::kSize) {
    write_queue_address(offset, width, value);
    return;
  }
  switch (width << 8 | offset) {
    case 4 << 8 | common::kDeviceFeatureSelect: device_feature_select_ = v32; break;
    case 4 << 8 | common::kDriverFeatureSelect: driver_feature_select_ = v32; break;
    case 4 << 8 | common::kDriverFeature:
      // CFG-2: other selectors ignored; features are frozen at FEATURES_OK.
      if (driver_feature_select_ < 2 && (status_ & kStatusFeaturesOk) == 0) {
        const unsigned shift = 32 * driver_feature_select_;
        driver_features_ = (driver_features_ & ~(0xFFFFFFFFull << shift)) |
                           (static_cast<uint64_t>(v32) << shift);
      }
      break;
    case 2 << 8 | common::kMsixConfig:
      if (msix_) msix_config_ = v16;
      break;
    case 1 << 8 | common::kDeviceStatus: write_status(static_cast<uint8_t>(value)); break;
    case 2 << 8 | common::kQueueSelect: queue_select_ = v16; break;
    case 2 << 8 | common::kQueueMsixVector:
      if (QueueState* q = selected_queue(); q != nullptr && msix_) q->msix_vector = v16;
      break;
    case 2 << 8 | common::kQueueEnable:
      // only 1 is accepted; a queue is disabled only by reset.
      if (QueueState* q = selected_queue(); q != nullptr && v16 == 1 && !q->enabled) {
        enable_queue(*q);
      }
      break;
    default: break;  // read-only fields and odd widths
  }
}

void VirtioPciFunction::write_queue_address(uint32_t offset, unsigned width, uint64_t value) {
  QueueState* q = selected_queue();
  if (q == nullptr || q->enabled) return;  // CFG-3, Q-2
  const uint32_t field = offset & ~7u;
  const uint32_t half = offset & 7u;
  uint64_t* target = field == common::kQueueDesc    ? &q->desc
                     : field == common::kQueueAvail ? &q->avail
                                                    : &q->used;
  if (width == 8 && half == 0) {
    *target = value;
  } else if (width == 4 && (half == 0 || half == 4)) {  // CFG-5: either order
    const unsigned shift = 8 * half;
    *target = (*target & ~(0xFFFFFFFFull << shift)) | ((value & 0xFFFFFFFFull) << shift);
  }
}

void VirtioPciFunction::write_status(uint8_t value) {
  if (value == 0) {  // STAT-2
    reset_device();
    return;
  }
  uint8_t next = value;
  const uint64_t offered = device_.device_features();
  const uint64_t version1 = 1ull << virtqueue::kFVersion1;
  if ((next & kStatusFeaturesOk) != 0 && (status_ & kStatusFeaturesOk) == 0 &&
      ((driver_features_ & ~offered) != 0 || (driver_features_ & version1) == 0)) {
    next = static_cast<uint8_t>(next & ~kStatusFeaturesOk);  // FEAT-2: refused
  }
  // DEVICE_NEEDS_RESET belongs to the device: only a reset clears it.
  next = static_cast<uint8_t>((next & ~kStatusNeedsReset) | (status_ & kStatusNeedsReset));
  const bool activating = (next & kStatusDriverOk) != 0 && (status_ & kStatusDriverOk) == 0 &&
                          (next & kStatusFeaturesOk) != 0;
  status_ = next;
  if (activating) device_.activate(*this);
}

uint64_t VirtioPciFunction::negotiated_features() const {
  return (status_ & kStatusFeaturesOk) != 0 ? driver_features_ : 0;
}

void VirtioPciFunction::enable_queue(QueueState& q) {
  q.enabled = true;
  const uint64_t f = negotiated_features();
  const virtqueue::DeviceQueueConfig cfg{
      device_.queue_size(static_cast<uint16_t>(&q - queues_.data())), q.desc, q.avail, q.used,
      (f >> virtqueue::kFRingIndirectDesc & 1) != 0, (f >> virtqueue::kFRingEventIdx & 1) != 0};
  // A ring outside guest memory or misaligned (VQ-2, VQ-8) cannot be served.
  if (q.ring.configure(memory_, cfg) != virtqueue::RingError::kNone) set_needs_reset();
}

// ---- Doorbells, ISR, interrupts ---------------------------------------------

void VirtioPciFunction::doorbell(uint16_t q) {
  // NTF-3 and STAT-3: ignored unless the queue exists, is enabled and the
  // driver is done initialising; BAR-4: no DMA without Bus Master.
  if (q >= queues_.size() || !queues_[q].enabled || (status_ & kStatusDriverOk) == 0 ||
      (status_ & kStatusNeedsReset) != 0 || !bus_master_enabled()) {
    return;
  }
  if (doorbell_hook_) {
    doorbell_hook_(q);
  } else {
    process_queue(q);
  }
}

void VirtioPciFunction::process_queue(uint16_t q) {
  if (q >= queues_.size() || !queues_[q].enabled || (status_ & kStatusDriverOk) == 0 ||
      (status_ & kStatusNeedsReset) != 0 || !bus_master_enabled()) {
    return;
  }
  device_.queue_notify(q, *this);
  // Whatever the device did, a stopped ring means the device needs a reset.
  if (queues_[q].ring.ring_error() != virtqueue::RingError::kNone) set_needs_reset();
}

void VirtioPciFunction::used_buffers_published(uint16_t q) {
  if (q < queues_.size() && queues_[q].ring.should_interrupt()) {
    raise(kIsrQueue, queues_[q].msix_vector);  // IRQ-2
  }
}

void VirtioPciFunction::config_changed() {
  config_generation_ = static_cast<uint8_t>(config_generation_ + 1);  // CFG-4
  raise(kIsrConfig, msix_config_);                                     // IRQ-3
}

void VirtioPciFunction::set_needs_reset() {
  if ((status_ & kStatusNeedsReset) != 0) return;
  status_ = static_cast<uint8_t>(status_ | kStatusNeedsReset);  // STAT-4
  raise(kIsrConfig, msix_config_);
}

uint8_t VirtioPciFunction::read_isr() {
  const uint8_t v = isr_;  // ISR-2: read-to-acknowledge
  isr_ = 0;
  update_intx();
  return v;
}

void VirtioPciFunction::raise(uint8_t isr_bit, uint16_t msix_vector) {
  isr_ = static_cast<uint8_t>(isr_ | isr_bit);
  if (msix_ && msix_->enabled()) {
    msix_->signal(msix_vector);  // IRQ-4: MSI-X only; kNoVector is dropped
  }
  update_intx();
}

void VirtioPciFunction::update_intx() {
  // IRQ-1: INTA# follows ISR while MSI-X is off; Status bit 3 shows the
  // cause even when Command bit 10 keeps it off the pin.
  const bool pending = isr_ != 0 && !(msix_ && msix_->enabled());
  set_intx_status(pending);
  if (intx_ != nullptr && intx_source_) intx_->set(*intx_source_, pending && !intx_disabled());
}

void VirtioPciFunction::reset_device() {
  for (QueueState& q : queues_) {
    q.ring.reset();
    q = QueueState{};
  }
  device_feature_select_ = driver_feature_select_ = 0;
  driver_features_ = 0;
  msix_config_ = kNoVector;
  queue_select_ = 0;
  status_ = 0;
  isr_ = 0;
  update_intx();
  device_.reset();
}

}  // namespace aerov::transport
