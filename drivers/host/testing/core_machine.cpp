#include "drivers/host/testing/core_machine.hpp"

#include <stdexcept>
#include <string>

#include "virtqueue/layout.hpp"

namespace aerov::drivers::host::testing {

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("core machine: ") + what);
}

}  // namespace

CoreMachine::CoreMachine(uint64_t low_ram_bytes) {
  require(memory.add_ram(0, low_ram_bytes) == model::MemError::kOk, "low RAM");
  require(memory.add_ram(kHighRam, kRamBytes) == model::MemError::kOk, "high RAM");
}

void CoreMachine::attach(transport::VirtioDevice& device, const contract::DeviceSpec& spec,
                         uint64_t hide_features) {
  require(function == nullptr, "attach twice");
  masked = std::make_unique<MaskedDevice>(device, hide_features);
  transport::VirtioPciOptions po;
  po.intx = &intx;
  po.msix_vectors = msix_vectors_;
  if (msix_vectors_ != 0) {
    po.msi_sink = [this](const model::irq::MsiMessage& m) {
      msi_messages.push_back(m);
      ++msi_delivered;
      if (on_msi) on_msi(m);
    };
  }
  function = std::make_unique<transport::VirtioPciFunction>(
      *masked, memory, transport::contract_identity(spec, 0), std::move(po));
  require(bus.attach(kBdf, function.get()) == model::pci::PciError::kOk, "attach");
  enumeration = model::pci::enumerate(
      bus, {{0xE000'0000, 0x1000'0000}, {0x80'0000'0000, 0x1'0000'0000}});
  require(enumeration.functions.size() == 1 && enumeration.functions[0].enabled, "enumeration");
  os.emplace(bus, enumeration.functions[0], memory, kDmaWindow, kDmaWindowBytes);
}

int CoreMachine::deliver_messages(const std::function<bool(uint16_t message)>& handler) {
  int n = 0;
  while (!msi_messages.empty()) {
    const model::irq::MsiMessage msg = msi_messages.front();
    msi_messages.pop_front();
    require(msg.address == host::ModelOsServices::kMsiAddress, "MSI-X address");
    if (!handler(static_cast<uint16_t>(msg.data))) ++unclaimed_messages;
    ++n;
  }
  return n;
}

uint64_t CoreMachine::alloc_buffer(uint64_t bytes) {
  uint64_t& next = high_next_ ? next_high_ : next_low_;
  const uint64_t limit = high_next_ ? kHighRam + kRamBytes : kRamBytes;
  high_next_ = !high_next_;
  const uint64_t gpa = ((next + 63) & ~uint64_t{63}) + 8;
  require(gpa + bytes <= limit, "out of buffer RAM");
  next = gpa + bytes;
  return gpa;
}

uint64_t CoreMachine::used_pa(size_t ring_allocation, uint16_t queue_size) const {
  return os->allocations().at(ring_allocation).pa +
         virtqueue::ring_layout(queue_size, false).used_offset;
}

uint16_t CoreMachine::used_idx(size_t ring_allocation, uint16_t queue_size) const {
  uint16_t idx = 0;
  memory.read(used_pa(ring_allocation, queue_size) + 2, &idx, 2);
  return idx;
}

void CoreMachine::poke_used(size_t ring_allocation, uint16_t queue_size, uint16_t position,
                            uint32_t id, uint32_t len) {
  const uint64_t elem = used_pa(ring_allocation, queue_size) + 4 + 8ull * (position % queue_size);
  memory.write(elem, &id, 4);
  memory.write(elem + 4, &len, 4);
}

}  // namespace aerov::drivers::testing
