#include "transport/testing/virtio_pci_rig.hpp"

#include <stdexcept>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::transport::testing {

VirtioPciRig::VirtioPciRig(const RigOptions& o)
    : intx([this](bool level) { intx_levels.push_back(level); }),
      device(o.queue_sizes, o.features) {
  if (memory.add_ram(0, kRamBytes) != model::MemError::kOk ||
      memory.add_ram(kHighRam, kRamBytes) != model::MemError::kOk) {
    throw std::runtime_error("rig: guest RAM");
  }
  VirtioPciOptions options;
  options.intx = &intx;
  options.msix_vectors = o.msix_vectors;
  options.msi_sink = [this](const model::irq::MsiMessage& m) { msis.push_back(m); };
  function = std::make_unique<VirtioPciFunction>(
      device, memory, contract_identity(contract::kBlk, 0), std::move(options));
  if (bus.attach(kBdf, function.get()) != model::pci::PciError::kOk) {
    throw std::runtime_error("rig: attach");
  }
  if (!o.enumerate) return;
  // Firmware places 64-bit BARs above 4 GiB (DMA-2 style addresses for MMIO).
  enumeration = model::pci::enumerate(
      bus, {{0xE000'0000, 0x1000'0000}, {0x80'0000'0000, 0x1'0000'0000}});
  if (enumeration.functions.size() != 1 || !enumeration.functions[0].enabled) {
    throw std::runtime_error("rig: enumeration");
  }
  pci.emplace(bus, enumeration.functions[0]);
}

}  // namespace aerov::transport::testing
