// A small machine for transport tests and conformance checks: guest RAM
// below and above 4 GiB, a PCI bus with one virtio-pci function (a
// LoopbackDevice by default), a recorded INTx line and MSI sink, firmware
// enumeration, and the driver's PciAccess onto it. Driver and device meet
// only through config space, MMIO, guest memory and interrupts.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "drivers/host/model_pci_access.hpp"
#include "model/irq/intx_line.hpp"
#include "model/memory/guest_memory.hpp"
#include "model/pci/pci_bus.hpp"
#include "transport/device/virtio_pci_function.hpp"
#include "transport/testing/loopback_device.hpp"

namespace aerov::transport::testing {

struct RigOptions {
  std::vector<uint16_t> queue_sizes = {8, 16};
  uint64_t features = (1ull << 32) | (1ull << 28) | LoopbackDevice::kFeatureBit0;
  uint16_t msix_vectors = 0;
  bool enumerate = true;
};

class VirtioPciRig {
 public:
  static constexpr uint64_t kRamBytes = 64ull << 20;
  static constexpr uint64_t kHighRam = 1ull << 32;
  static constexpr model::pci::Bdf kBdf{0, 3, 0};

  explicit VirtioPciRig(const RigOptions& options = {});

  model::GuestMemory memory;
  model::pci::PciBus bus;
  model::irq::IntxLine intx;
  std::vector<bool> intx_levels;               // every level change, in order
  std::vector<model::irq::MsiMessage> msis;    // every delivered message
  LoopbackDevice device;
  std::unique_ptr<VirtioPciFunction> function;
  model::pci::Enumeration enumeration;
  std::optional<drivers::host::ModelPciAccess> pci;  // set once enumerated

  bool intx_level() const { return intx.level(); }
};

}  // namespace aerov::transport::testing
