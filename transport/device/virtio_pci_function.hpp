// Device end of the virtio-pci modern transport: one PCI function with the
// contract's identity, capabilities and fixed BAR0 layout (sections 1-4),
// into which a VirtioDevice plugs.
//
// BAR0 (64-bit, 16 KiB):
//   0x0000 common configuration   0x1000 doorbells (4 bytes per queue)
//   0x1800 MSI-X table (optional) 0x1C00 MSI-X PBA (optional)
//   0x2000 ISR byte               0x3000 device configuration
// Everything else reads 0 and ignores writes (BAR-3).
//
// The guest is hostile: every register write is checked against the state
// machine; misuse is ignored or refused as the contract says, and ring
// corruption raises DEVICE_NEEDS_RESET (STAT-4), never a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/irq/intx_line.hpp"
#include "model/irq/msix_state.hpp"
#include "model/memory/guest_memory.hpp"
#include "model/pci/pci_function.hpp"
#include "transport/device/virtio_device.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::transport {

namespace irq = model::irq;

struct PciIdentity {
  uint16_t vendor_id;
  uint16_t device_id;
  uint16_t subsystem_vendor_id;
  uint16_t subsystem_id;
  uint8_t revision;
  uint8_t class_base, class_sub, class_prog_if;
  bool multi_function;  // function 0 of a multi-function device (PCI-6)
};

// The identity the contract gives function `function` of `device`.
PciIdentity contract_identity(const contract::DeviceSpec& device, uint8_t function);

struct VirtioPciOptions {
  irq::IntxLine* intx = nullptr;   // INTA# (IRQ-1); may be shared
  uint16_t msix_vectors = 0;       // 0: no MSI-X capability (IRQ-4 optional)
  irq::MsiSink msi_sink = {};
};

class VirtioPciFunction final : public model::pci::PciFunction, public DeviceTransport {
 public:
  static constexpr uint32_t kMsixTableOffset = 0x1800;
  static constexpr uint32_t kMsixPbaOffset = 0x1C00;
  static constexpr uint16_t kMsixVectorsMax = 64;  // table must fit below the PBA

  VirtioPciFunction(VirtioDevice& device, model::GuestMemory& memory, const PciIdentity& identity,
                    VirtioPciOptions options = {});

  // Doorbells normally run the device at once; a scheduler (model/sim)
  // installs a hook to run them as events instead.
  using DoorbellHook = std::function<void(uint16_t queue)>;
  void set_doorbell_hook(DoorbellHook hook) { doorbell_hook_ = std::move(hook); }
  // Serves queue q now (what a doorbell does without a hook).
  void process_queue(uint16_t q);

  // DeviceTransport.
  model::GuestMemory& memory() override { return memory_; }
  // q < num_queues(): the caller is the device model, not the guest.
  virtqueue::DeviceQueue& queue(uint16_t q) override { return queues_[q].ring; }
  void used_buffers_published(uint16_t q) override;
  void config_changed() override;
  void set_needs_reset() override;
  uint64_t negotiated_features() const override;

  uint8_t device_status() const { return status_; }
  uint8_t isr() const { return isr_; }
  uint8_t config_generation() const { return config_generation_; }
  bool queue_enabled(uint16_t q) const { return q < queues_.size() && queues_[q].enabled; }
  const irq::MsixState* msix() const { return msix_ ? &*msix_ : nullptr; }

 protected:
  uint64_t on_mmio_read(uint8_t bar, uint64_t offset, unsigned width) override;
  void on_mmio_write(uint8_t bar, uint64_t offset, unsigned width, uint64_t value) override;
  void on_config_write(uint16_t offset, unsigned width, uint32_t value) override;

 private:
  struct QueueState {
    uint64_t desc = 0, avail = 0, used = 0;
    uint16_t msix_vector = irq::MsixState::kNoVector;
    bool enabled = false;
    virtqueue::DeviceQueue ring;
  };

  void build_config_space(const PciIdentity& id);
  uint64_t common_read(uint32_t offset, unsigned width) const;
  void common_write(uint32_t offset, unsigned width, uint64_t value);
  void write_queue_address(uint32_t offset, unsigned width, uint64_t value);
  void write_status(uint8_t value);
  void enable_queue(QueueState& q);
  void doorbell(uint16_t q);
  uint8_t read_isr();
  void raise(uint8_t isr_bit, uint16_t msix_vector);
  void update_intx();
  void reset_device();
  QueueState* selected_queue();

  VirtioDevice& device_;
  model::GuestMemory& memory_;
  irq::IntxLine* intx_;
  std::optional<irq::IntxSourceId> intx_source_;
  std::optional<irq::MsixState> msix_;
  uint8_t msix_cap_ = 0;
  DoorbellHook doorbell_hook_;

  uint32_t device_feature_select_ = 0;
  uint32_t driver_feature_select_ = 0;
  uint64_t driver_features_ = 0;
  uint16_t msix_config_ = irq::MsixState::kNoVector;
  uint8_t status_ = 0;
  uint8_t config_generation_ = 0;
  uint16_t queue_select_ = 0;
  uint8_t isr_ = 0;
  std::vector<QueueState> queues_;
};

}  // namespace aerov::transport
