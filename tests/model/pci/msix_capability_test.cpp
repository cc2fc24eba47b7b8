// The MSI-X capability in config space wired to MsixState behind a BAR: the
// seam a transport uses (contract IRQ-4), exercised only through the bus.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "model/irq/msix_state.hpp"
#include "model/pci/msix_capability.hpp"
#include "model/pci/pci_bus.hpp"
#include "model/pci/pci_enumerator.hpp"

namespace {

namespace reg = aerov::model::pci::reg;
using aerov::model::irq::MsiMessage;
using aerov::model::irq::MsixOutcome;
using aerov::model::irq::MsixState;
using aerov::model::pci::BarSpec;
using aerov::model::pci::BarType;
using aerov::model::pci::Bdf;
using aerov::model::pci::ConfigSpace;
using aerov::model::pci::MsixCapabilityLayout;
using aerov::model::pci::PciBus;
using aerov::model::pci::PciError;
using aerov::model::pci::PciFunction;

constexpr uint64_t kTableOffset = 0x2000;
constexpr uint64_t kPbaOffset = 0x3000;
constexpr uint16_t kVectors = 3;

// A function with its MSI-X table and PBA in a 64-bit BAR0.
class MsixFunction : public PciFunction {
 public:
  explicit MsixFunction(std::vector<MsiMessage>* sent)
      : msix_(kVectors, [sent](const MsiMessage& m) { sent->push_back(m); }) {
    config().set_ids(0x1AF4, 0x1041);
    REQUIRE(declare_bar(0, BarSpec{0x4000, BarType::kMemory64, false}) == PciError::kOk);
    const MsixCapabilityLayout layout{kVectors, 0, kTableOffset, 0, kPbaOffset};
    cap_ = *aerov::model::pci::add_msix_capability(config(), layout);
  }
  MsixState& msix() { return msix_; }
  uint8_t cap() const { return cap_; }

 protected:
  uint64_t on_mmio_read(uint8_t, uint64_t offset, unsigned width) override {
    if (offset >= kPbaOffset) return msix_.pba_read(offset - kPbaOffset, width);
    if (offset >= kTableOffset) return msix_.table_read(offset - kTableOffset, width);
    return 0;
  }
  void on_mmio_write(uint8_t, uint64_t offset, unsigned width, uint64_t value) override {
    // The PBA is read-only: writes there fall on the floor.
    if (offset >= kTableOffset && offset < kPbaOffset) msix_.table_write(offset - kTableOffset, width, value);
  }
  void on_config_write(uint16_t offset, unsigned width, uint32_t) override {
    if (aerov::model::pci::touches_msix_control(cap_, offset, width)) {
      msix_.write_message_control(config().u16(cap_ + aerov::model::pci::kMsixMessageControl));
    }
  }

 private:
  MsixState msix_;
  uint8_t cap_ = 0;
};

}  // namespace

TEST_CASE("pci: msix capability layout and writable bits", "[pci][msix][IRQ-4]") {
  ConfigSpace c;
  const auto cap = aerov::model::pci::add_msix_capability(c, {kVectors, 2, 0x800, 4, 0x1000});
  REQUIRE(cap);
  CHECK(c.read(reg::kCapabilitiesPointer, 1) == *cap);
  CHECK(c.read(*cap, 4) == (uint32_t{kVectors - 1} << 16 | reg::kCapIdMsix));
  CHECK(c.read(*cap + 4, 4) == (0x800 | 2));
  CHECK(c.read(*cap + 8, 4) == (0x1000 | 4));

  c.write(*cap, 4, 0xFFFF'FFFF);  // only Enable and Function Mask stick
  CHECK(c.read(*cap, 4) == (0xC000'0000u | uint32_t{kVectors - 1} << 16 | reg::kCapIdMsix));
  c.write(*cap + 4, 4, 0);
  CHECK(c.read(*cap + 4, 4) == (0x800 | 2));

  CHECK(aerov::model::pci::touches_msix_control(0x40, 0x40, 4));
  CHECK(aerov::model::pci::touches_msix_control(0x40, 0x43, 1));
  CHECK_FALSE(aerov::model::pci::touches_msix_control(0x40, 0x41, 1));
  CHECK_FALSE(aerov::model::pci::touches_msix_control(0x40, 0x44, 4));

  ConfigSpace bad;
  CHECK_FALSE(aerov::model::pci::add_msix_capability(bad, {0, 0, 0, 0, 0}));
  CHECK_FALSE(aerov::model::pci::add_msix_capability(bad, {2049, 0, 0, 0, 0}));
  CHECK_FALSE(aerov::model::pci::add_msix_capability(bad, {1, 6, 0, 0, 0}));
  CHECK_FALSE(aerov::model::pci::add_msix_capability(bad, {1, 0, 4, 0, 0}));
}

TEST_CASE("pci: msix programmed through the bus delivers, latches and delivers on unmask",
          "[pci][msix][IRQ-4]") {
  std::vector<MsiMessage> sent;
  MsixFunction f(&sent);
  PciBus bus;
  const Bdf bdf{0, 2, 0};
  REQUIRE(bus.attach(bdf, &f) == PciError::kOk);
  const auto found = aerov::model::pci::enumerate(
      bus, {{0xC000'0000, 0x1000'0000}, {0x10'0000'0000ull, 0x10'0000'0000ull}});
  REQUIRE(found.status == PciError::kOk);
  const uint64_t table = found.functions.at(0).bars.at(0).address + kTableOffset;
  const uint64_t pba = found.functions.at(0).bars.at(0).address + kPbaOffset;
  CHECK(table >= (1ull << 32));

  // Driver order: program entry 1 while masked, enable MSI-X, then unmask.
  REQUIRE(bus.mmio_write(table + 16, 8, 0xFEE0'0000));
  REQUIRE(bus.mmio_write(table + 24, 4, 0x31));
  const uint16_t control_offset = f.cap() + aerov::model::pci::kMsixMessageControl;
  bus.config_write(bdf, control_offset, 2, MsixState::kControlEnable);
  CHECK(f.msix().enabled());
  CHECK(bus.config_read(bdf, control_offset, 2) == (MsixState::kControlEnable | (kVectors - 1)));

  CHECK(f.msix().signal(1) == MsixOutcome::kLatched);
  CHECK(bus.mmio_read(pba, 8) == 0b10);
  bus.mmio_write(pba, 8, 0);  // read-only
  CHECK(bus.mmio_read(pba, 4) == 0b10);

  bus.mmio_write(table + 28, 4, 0);  // unmask entry 1
  CHECK(sent == std::vector<MsiMessage>{{0xFEE0'0000, 0x31}});
  CHECK(bus.mmio_read(pba, 8) == 0);
  CHECK(f.msix().signal(1) == MsixOutcome::kDelivered);
  CHECK(sent.size() == 2);

  // Function mask through config space (a 4-byte write at the capability).
  bus.config_write(bdf, f.cap(), 4, uint32_t{MsixState::kControlEnable | MsixState::kControlFunctionMask} << 16);
  CHECK(f.msix().function_masked());
  CHECK(f.msix().signal(1) == MsixOutcome::kLatched);
  bus.config_write(bdf, control_offset, 2, MsixState::kControlEnable);
  CHECK(sent.size() == 3);
  CHECK(f.msix().signal(MsixState::kNoVector) == MsixOutcome::kDropped);
}
