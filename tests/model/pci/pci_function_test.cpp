// PciFunction: BAR declaration and the sizing protocol, the no-BAR case, and
// the function-level gate on BAR access (contract BAR-4).
#include <cstdint>

#include <catch2/catch.hpp>

#include "model/pci/pci_function.hpp"
#include "tests/model/pci/recording_function.hpp"

namespace {

namespace reg = aerov::model::pci::reg;
using aerov::model::pci::BarSpec;
using aerov::model::pci::BarType;
using aerov::model::pci::PciError;
using aerov::model::pci::PciFunction;
using aerov::model::pci::testing::RecordingFunction;

uint16_t bar_reg(unsigned index) { return static_cast<uint16_t>(reg::kBar0 + 4 * index); }

// Writes all-ones, reads back, restores: what every enumerator does.
uint32_t size_probe(PciFunction& f, unsigned index) {
  const uint32_t original = f.config_read(bar_reg(index), 4);
  f.config_write(bar_reg(index), 4, 0xFFFF'FFFF);
  const uint32_t mask = f.config_read(bar_reg(index), 4);
  f.config_write(bar_reg(index), 4, original);
  REQUIRE(f.config_read(bar_reg(index), 4) == original);
  return mask;
}

}  // namespace

TEST_CASE("pci: 32-bit memory BAR sizing protocol", "[pci][bar]") {
  RecordingFunction f(0x1234, 0x0001);
  REQUIRE(f.declare_bar(1, BarSpec{0x1000, BarType::kMemory32, false}) == PciError::kOk);
  REQUIRE(f.declare_bar(2, BarSpec{0x10, BarType::kMemory32, true}) == PciError::kOk);

  f.config_write(bar_reg(1), 4, 0xE000'0000);
  CHECK(size_probe(f, 1) == 0xFFFF'F000);       // type bits 00: 32-bit, not prefetchable
  CHECK(size_probe(f, 2) == 0xFFFF'FFF8);       // prefetchable bit 3, 16-byte minimum
  CHECK(f.bar_address(1) == 0xE000'0000);        // restored by the probe

  // Address bits below the size are read-only zero.
  f.config_write(bar_reg(1), 4, 0xE000'0ABC);
  CHECK(f.config_read(bar_reg(1), 4) == 0xE000'0000);
}

TEST_CASE("pci: 64-bit memory BAR sizing protocol uses two registers", "[pci][bar]") {
  RecordingFunction f(0x1234, 0x0001);
  REQUIRE(f.declare_bar(0, BarSpec{0x4000, BarType::kMemory64, false}) == PciError::kOk);
  CHECK(f.config_read(bar_reg(0), 4) == 0b100);  // type 0b10 in bits 2:1
  CHECK(size_probe(f, 0) == 0xFFFF'C004);
  CHECK(size_probe(f, 1) == 0xFFFF'FFFF);

  f.config_write(bar_reg(0), 4, 0x0000'8000);
  f.config_write(bar_reg(1), 4, 0x0000'0012);
  CHECK(f.bar_address(0) == 0x12'0000'8000ull);
  CHECK(f.bar_address(1) == 0);  // the upper half is not a BAR of its own

  // A BAR larger than 4 GiB: the low register has no address bits at all.
  RecordingFunction big(0x1234, 0x0002);
  REQUIRE(big.declare_bar(2, BarSpec{1ull << 34, BarType::kMemory64, true}) == PciError::kOk);
  CHECK(size_probe(big, 2) == 0x0000'000C);
  CHECK(size_probe(big, 3) == 0xFFFF'FFFC);
  const uint64_t mask = uint64_t{size_probe(big, 3)} << 32 | (size_probe(big, 2) & ~0xFu);
  CHECK(~mask + 1 == (1ull << 34));
}

TEST_CASE("pci: a function without BARs reports all BAR registers as 0", "[pci][bar]") {
  RecordingFunction f(0x1234, 0x0001);
  for (unsigned i = 0; i < PciFunction::kBarCount; ++i) {
    CAPTURE(i);
    f.config_write(bar_reg(i), 4, 0xFFFF'FFFF);
    CHECK(f.config_read(bar_reg(i), 4) == 0);
    CHECK(f.bar_address(static_cast<uint8_t>(i)) == 0);
  }
  f.config_write(reg::kCommand, 2, reg::kCommandMemorySpace);
  CHECK(f.mmio_read(0, 0, 4) == 0xFFFF'FFFF);  // nothing to forward to
  CHECK(f.reads == 0);
}

TEST_CASE("pci: declare_bar rejects malformed BARs", "[pci][bar]") {
  RecordingFunction f(0x1234, 0x0001);
  const auto m32 = [](uint64_t size) { return BarSpec{size, BarType::kMemory32, false}; };
  const auto m64 = [](uint64_t size) { return BarSpec{size, BarType::kMemory64, false}; };
  CHECK(f.declare_bar(6, m32(0x1000)) == PciError::kBadBar);
  CHECK(f.declare_bar(5, m64(0x1000)) == PciError::kBadBar);  // no upper register
  CHECK(f.declare_bar(0, m32(0x1800)) == PciError::kBadBar);  // not a power of two
  CHECK(f.declare_bar(0, m32(8)) == PciError::kBadBar);
  CHECK(f.declare_bar(0, m32(1ull << 32)) == PciError::kBadBar);
  CHECK(f.declare_bar(0, m32(0)) == PciError::kBadBar);

  REQUIRE(f.declare_bar(2, m64(0x1000)) == PciError::kOk);
  CHECK(f.declare_bar(2, m32(0x1000)) == PciError::kBadBar);  // taken
  CHECK(f.declare_bar(3, m32(0x1000)) == PciError::kBadBar);  // upper half of BAR2
  CHECK(f.declare_bar(1, m64(0x1000)) == PciError::kBadBar);  // would overlap BAR2
  CHECK(f.declare_bar(4, m32(0x1000)) == PciError::kOk);
}

TEST_CASE("pci: BAR access is served only while Memory Space is on", "[pci][bar][BAR-4]") {
  RecordingFunction f(0x1234, 0x0001);
  REQUIRE(f.declare_bar(0, BarSpec{0x4000, BarType::kMemory64, false}) == PciError::kOk);
  CHECK_FALSE(f.memory_space_enabled());
  CHECK(f.mmio_read(0, 0x10, 4) == 0xFFFF'FFFF);
  CHECK_FALSE(f.mmio_write(0, 0x10, 4, 1));
  CHECK(f.reads == 0);
  CHECK(f.writes.empty());

  f.config_write(reg::kCommand, 2, reg::kCommandMemorySpace);
  CHECK(f.mmio_read(0, 0x10, 2) == (RecordingFunction::pattern(0, 0x10) & 0xFFFF));
  CHECK(f.mmio_write(0, 0x3FF8, 8, 0x1122'3344'5566'7788ull));
  CHECK_FALSE(f.mmio_write(0, 0x3FFC, 8, 0));  // past the end
  CHECK_FALSE(f.mmio_write(0, 0x10, 3, 0));    // not a bus width
  CHECK_FALSE(f.mmio_write(1, 0x10, 4, 0));    // BAR1 is BAR0's upper half
  REQUIRE(f.writes.size() == 1);
  CHECK(f.writes[0].value == 0x1122'3344'5566'7788ull);
}

TEST_CASE("pci: Bus Master and Interrupt Disable follow the Command register", "[pci][BAR-4]") {
  RecordingFunction f(0x1234, 0x0001);
  CHECK_FALSE(f.bus_master_enabled());
  f.config_write(reg::kCommand, 2, reg::kCommandBusMaster);
  CHECK(f.bus_master_enabled());
  CHECK_FALSE(f.memory_space_enabled());
  f.config_write(reg::kCommand, 2, reg::kCommandInterruptDisable);
  CHECK_FALSE(f.bus_master_enabled());
  CHECK(f.intx_disabled());

  // Status bit 3 is device-driven and read-only to the guest.
  f.set_intx_status(true);
  CHECK(f.config_read(reg::kStatus, 2) & reg::kStatusInterrupt);
  f.config_write(reg::kStatus, 2, 0);
  CHECK(f.config_read(reg::kStatus, 2) & reg::kStatusInterrupt);
  f.set_intx_status(false);
  CHECK_FALSE(f.config_read(reg::kStatus, 2) & reg::kStatusInterrupt);
}
