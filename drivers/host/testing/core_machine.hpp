// The machine every driver-core test runs on: guest RAM below and above
// 4 GiB, a PCI bus with one virtio-pci function (the real transport) in
// front of a device model, an INTx line, firmware enumeration and
// ModelOsServices handing out DMA memory from a window above 4 GiB (DMA-2).
// A core and its device meet only through config space, BAR0, guest memory
// and the interrupt line.
//
// Device-specific machines (tests/drivers, bench/) own their device model
// and a core, and call attach() once the device exists.
//
// MSI-X (IRQ-4): set_msix_vectors(n) before attach() gives the function an
// MSI-X capability with n table entries; every message it delivers is
// recorded in msi_messages (data = the message number the platform
// programmed) for the machine to hand to the core's message entry point.
// os->grant_msix_messages(k) after attach() plays the platform granting k.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>
#include <functional>
#include <deque>
#include <memory>
#include <optional>

#include "aerov/contract/windows_device_contract.hpp"
#include "drivers/host/model_os_services.hpp"
#include "model/irq/intx_line.hpp"
#include "model/memory/guest_memory.hpp"
#include "model/pci/pci_bus.hpp"
#include "model/pci/pci_enumerator.hpp"
#include "transport/device/forwarding_device.hpp"
#include "transport/device/virtio_pci_function.hpp"

namespace aerov::drivers::host::testing {

// Sits between the transport and a device model so a test can hide
// features (e.g. INDIRECT_DESC) the real device offers.
class MaskedDevice final : public transport::ForwardingDevice {
 public:
  MaskedDevice(transport::VirtioDevice& inner, uint64_t hide)
      : ForwardingDevice(inner), hide_(hide) {}
  uint64_t device_features() const override {
    return ForwardingDevice::device_features() & ~hide_;
  }

 private:
  uint64_t hide_;
};

class CoreMachine {
 public:
  static constexpr uint64_t kRamBytes = 64ull << 20;
  static constexpr uint64_t kHighRam = 1ull << 32;
  static constexpr uint64_t kDmaWindow = kHighRam;  // the core's DMA memory
  static constexpr uint64_t kDmaWindowBytes = 4ull << 20;
  static constexpr model::pci::Bdf kBdf{0, 5, 0};

  // low_ram_bytes: RAM at 0 (a replayed guest may need more than kRamBytes;
  // at most kHighRam).
  explicit CoreMachine(uint64_t low_ram_bytes = kRamBytes);
  CoreMachine(const CoreMachine&) = delete;
  CoreMachine& operator=(const CoreMachine&) = delete;

  // Puts `device` (behind a MaskedDevice hiding `hide_features`) on the bus
  // as `spec`, enumerates and creates the OS services. Once only.
  void attach(transport::VirtioDevice& device, const contract::DeviceSpec& spec,
              uint64_t hide_features = 0);
  // Before attach(): MSI-X table entries of the function (0: no capability).
  void set_msix_vectors(uint16_t vectors) { msix_vectors_ = vectors; }
  uint16_t msix_vectors() const { return msix_vectors_; }
  // Hands every recorded MSI-X message, oldest first, to `handler` (the
  // core's message_interrupt: true when the message was its). Checks each
  // went to the address the platform programmed; returns how many there
  // were and counts the unclaimed ones in unclaimed_messages.
  int deliver_messages(const std::function<bool(uint16_t message)>& handler);

  // Guest buffers for data: alternating low and high RAM (DMA-2), each
  // starting 8 bytes into a cache line (DMA-1: no alignment promised).
  uint64_t alloc_buffer(uint64_t bytes);
  // Guest RAM handed out so far, as [gpa, end) ranges: the buffers below
  // 4 GiB, and the DMA window plus the buffers above it.
  std::vector<std::pair<uint64_t, uint64_t>> used_ranges() const {
    return {{kLowBuffers, next_low_}, {kHighRam, next_high_}};
  }

  // The used ring inside the core's DMA allocation number
  // `ring_allocation` (which holds a whole split ring of queue_size), for
  // tests that play a hostile device.
  uint64_t used_pa(size_t ring_allocation, uint16_t queue_size) const;
  uint16_t used_idx(size_t ring_allocation, uint16_t queue_size) const;
  void poke_used(size_t ring_allocation, uint16_t queue_size, uint16_t position, uint32_t id,
                 uint32_t len);

  model::GuestMemory memory;
  model::irq::IntxLine intx;
  model::pci::PciBus bus;
  std::unique_ptr<MaskedDevice> masked;
  std::unique_ptr<transport::VirtioPciFunction> function;
  model::pci::Enumeration enumeration;
  std::optional<host::ModelOsServices> os;
  // Delivered MSI-X messages, oldest first, not yet taken.
  std::deque<model::irq::MsiMessage> msi_messages;
  uint64_t msi_delivered = 0;
  uint64_t unclaimed_messages = 0;
  // Told of every MSI-X message as it is recorded (a scheduler's hook).
  std::function<void(const model::irq::MsiMessage&)> on_msi;  // every message the sink ever received

 private:
  uint16_t msix_vectors_ = 0;
  static constexpr uint64_t kLowBuffers = 0x100000;
  uint64_t next_low_ = kLowBuffers;
  uint64_t next_high_ = kHighRam + kDmaWindowBytes;
  bool high_next_ = false;
};

}  // namespace aerov::drivers::testing
