// PciBus: BDF addressing, multi-function visibility (contract PCI-6), and
// MMIO routing gated by Command Memory Space (contract BAR-4).
#include <array>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "model/pci/pci_bus.hpp"
#include "tests/model/pci/recording_function.hpp"

namespace {

namespace reg = aerov::model::pci::reg;
using aerov::model::pci::BarSpec;
using aerov::model::pci::BarType;
using aerov::model::pci::Bdf;
using aerov::model::pci::PciBus;
using aerov::model::pci::PciError;
using aerov::model::pci::testing::MmioWrite;
using aerov::model::pci::testing::RecordingFunction;

uint16_t bar_reg(unsigned index) { return static_cast<uint16_t>(reg::kBar0 + 4 * index); }

constexpr uint64_t kLowBase = 0xE000'0000;         // 32-bit BAR0 of function A, 4 KiB
constexpr uint64_t kHighBase = 0x80'0000'0000ull;  // 64-bit BAR2 of function A, 16 KiB

// One function with a 32-bit BAR0 below 4 GiB and a 64-bit BAR2 above it,
// placed by hand (the enumerator has its own tests).
struct Machine {
  PciBus bus;
  RecordingFunction a{0x1AF4, 0x1042};
  Bdf a_bdf{0, 3, 0};

  Machine() {
    REQUIRE(a.declare_bar(0, BarSpec{0x1000, BarType::kMemory32, false}) == PciError::kOk);
    REQUIRE(a.declare_bar(2, BarSpec{0x4000, BarType::kMemory64, false}) == PciError::kOk);
    REQUIRE(bus.attach(a_bdf, &a) == PciError::kOk);
    bus.config_write(a_bdf, bar_reg(0), 4, static_cast<uint32_t>(kLowBase));
    bus.config_write(a_bdf, bar_reg(2), 4, static_cast<uint32_t>(kHighBase));
    bus.config_write(a_bdf, bar_reg(3), 4, static_cast<uint32_t>(kHighBase >> 32));
  }
  void set_command(uint16_t command) { bus.config_write(a_bdf, reg::kCommand, 2, command); }
};

}  // namespace

TEST_CASE("pci: absent functions read all-ones and ignore writes", "[pci][bus]") {
  PciBus bus;
  const Bdf nowhere{0, 7, 0};
  CHECK(bus.config_read(nowhere, reg::kVendorId, 2) == 0xFFFF);
  CHECK(bus.config_read(nowhere, reg::kVendorId, 4) == 0xFFFF'FFFF);
  CHECK(bus.config_read(nowhere, reg::kHeaderType, 1) == 0xFF);
  bus.config_write(nowhere, reg::kCommand, 2, 0xFFFF);
  CHECK(bus.find(nowhere) == nullptr);
  CHECK(bus.config_read(Bdf{0, 32, 0}, 0, 2) == 0xFFFF);  // not even a valid address
}

TEST_CASE("pci: attach rejects bad addresses, null and duplicates", "[pci][bus]") {
  PciBus bus;
  RecordingFunction f(0x1AF4, 0x1041);
  CHECK(bus.attach(Bdf{0, 32, 0}, &f) == PciError::kBadBdf);
  CHECK(bus.attach(Bdf{0, 0, 8}, &f) == PciError::kBadBdf);
  CHECK(bus.attach(Bdf{0, 1, 0}, nullptr) == PciError::kNullFunction);
  CHECK(bus.attach(Bdf{2, 1, 0}, &f) == PciError::kOk);
  CHECK(bus.attach(Bdf{2, 1, 0}, &f) == PciError::kOccupied);
  CHECK(bus.config_read(Bdf{2, 1, 0}, reg::kDeviceId, 2) == 0x1041);
  CHECK(bus.config_read(Bdf{0, 1, 0}, reg::kDeviceId, 2) == 0xFFFF);  // other bus
}

TEST_CASE("pci: function 1 is visible only when function 0 sets the multi-function bit",
          "[pci][bus][PCI-6]") {
  PciBus bus;
  RecordingFunction keyboard(0x1AF4, 0x1052);
  RecordingFunction mouse(0x1AF4, 0x1052);
  const Bdf f0{0, 5, 0};
  const Bdf f1{0, 5, 1};
  REQUIRE(bus.attach(f1, &mouse) == PciError::kOk);

  // No function 0 at all: the device does not exist.
  CHECK(bus.config_read(f1, reg::kVendorId, 2) == 0xFFFF);
  REQUIRE(bus.attach(f0, &keyboard) == PciError::kOk);
  // Function 0 without the bit: function 1 stays hidden, writes included.
  CHECK(bus.config_read(f0, reg::kVendorId, 2) == 0x1AF4);
  CHECK(bus.config_read(f1, reg::kVendorId, 2) == 0xFFFF);
  bus.config_write(f1, reg::kCommand, 2, reg::kCommandBusMaster);
  CHECK_FALSE(mouse.bus_master_enabled());
  CHECK(bus.find(f1) == nullptr);

  keyboard.config().set_multi_function(true);
  CHECK(bus.config_read(f0, reg::kHeaderType, 1) == 0x80);
  CHECK(bus.config_read(f1, reg::kVendorId, 2) == 0x1AF4);
  CHECK(bus.find(f1) == &mouse);
  // The bit is read-only to software: it is the device's identity.
  bus.config_write(f0, reg::kHeaderType & ~3, 4, 0);
  CHECK(bus.config_read(f0, reg::kHeaderType, 1) == 0x80);
}

TEST_CASE("pci: MMIO decodes only while Command Memory Space is set", "[pci][bus][BAR-4]") {
  Machine m;
  CHECK_FALSE(m.bus.decode(kLowBase, 4));
  CHECK(m.bus.mmio_read(kLowBase, 4) == 0xFFFF'FFFF);
  CHECK_FALSE(m.bus.mmio_write(kHighBase, 4, 1));
  CHECK(m.a.reads == 0);

  m.set_command(reg::kCommandBusMaster);  // Bus Master alone does not decode
  CHECK_FALSE(m.bus.decode(kLowBase, 4));

  m.set_command(reg::kCommandMemorySpace);
  const auto target = m.bus.decode(kHighBase + 0x20, 4);
  REQUIRE(target);
  CHECK(target->bdf == m.a_bdf);
  CHECK(target->function == &m.a);
  CHECK(target->bar == 2);
  CHECK(target->offset == 0x20);
  CHECK(m.bus.mmio_write(kHighBase + 0x20, 4, 7));

  m.set_command(0);  // turning decode off again stops routing at once
  CHECK_FALSE(m.bus.mmio_write(kHighBase + 0x20, 4, 8));
  CHECK(m.a.writes == std::vector<MmioWrite>{{2, 0x20, 4, 7}});
}

TEST_CASE("pci: decoding follows BAR moves and Command changes however they are made",
          "[pci][bus][BAR-4]") {
  Machine m;
  m.set_command(reg::kCommandMemorySpace);
  REQUIRE(m.bus.decode(kLowBase, 4));  // the window table is now built
  // Moved by the guest through the bus: the old place stops decoding.
  constexpr uint64_t kMoved = 0xD000'0000;
  m.bus.config_write(m.a_bdf, bar_reg(0), 4, static_cast<uint32_t>(kMoved));
  CHECK_FALSE(m.bus.decode(kLowBase, 4));
  REQUIRE(m.bus.decode(kMoved + 8, 4));
  CHECK(m.bus.decode(kMoved + 8, 4)->offset == 8);
  // Changed by the device model itself, not through the bus.
  m.a.config().set_u16(reg::kCommand, 0);
  CHECK_FALSE(m.bus.decode(kMoved, 4));
  m.a.config().set_u16(reg::kCommand, reg::kCommandMemorySpace);
  m.a.config().set_u32(bar_reg(0), static_cast<uint32_t>(kLowBase));
  CHECK_FALSE(m.bus.decode(kMoved, 4));
  CHECK(m.bus.decode(kLowBase, 4));
  // Unrelated config bytes (Status, as INTx changes it) leave decoding alone.
  m.a.set_intx_status(true);
  CHECK(m.bus.decode(kLowBase, 4));
  // A function attached later, earlier in BDF order, wins an overlap.
  RecordingFunction b{0x1AF4, 0x1041};
  REQUIRE(b.declare_bar(0, BarSpec{0x1000, BarType::kMemory32, false}) == PciError::kOk);
  const Bdf b_bdf{0, 1, 0};
  REQUIRE(m.bus.attach(b_bdf, &b) == PciError::kOk);
  m.bus.config_write(b_bdf, bar_reg(0), 4, static_cast<uint32_t>(kLowBase));
  CHECK(m.bus.decode(kLowBase, 4)->function == &m.a);  // b's Memory Space is still off
  m.bus.config_write(b_bdf, reg::kCommand, 2, reg::kCommandMemorySpace);
  CHECK(m.bus.decode(kLowBase, 4)->function == &b);
}

TEST_CASE("pci: MMIO routing of 1/2/4/8-byte accesses below and above 4 GiB", "[pci][bus][BAR-4]") {
  Machine m;
  m.set_command(reg::kCommandMemorySpace);
  for (const uint64_t base : {kLowBase, kHighBase}) {
    const uint8_t bar = base == kLowBase ? 0 : 2;
    for (const unsigned width : {1u, 2u, 4u, 8u}) {
      CAPTURE(base, width);
      const uint64_t offset = 0x40 + width;  // unaligned offsets are the device's business
      const uint64_t mask = width == 8 ? ~0ull : (1ull << (8 * width)) - 1;
      CHECK(m.bus.mmio_read(base + offset, width) == (RecordingFunction::pattern(bar, offset) & mask));
      m.a.writes.clear();
      CHECK(m.bus.mmio_write(base + offset, width, 0xF1E2'D3C4'B5A6'9788ull));
      // Only the low `width` bytes travel.
      CHECK(m.a.writes == std::vector<MmioWrite>{{bar, offset, width, 0xF1E2'D3C4'B5A6'9788ull & mask}});
    }
  }
}

TEST_CASE("pci: unclaimed and straddling MMIO reads all-ones and drops writes", "[pci][bus][BAR-4]") {
  Machine m;
  m.set_command(reg::kCommandMemorySpace);
  m.a.writes.clear();

  const uint64_t low_end = kLowBase + 0x1000;
  const uint64_t high_end = kHighBase + 0x4000;
  // Last bytes of each BAR are claimed...
  CHECK(m.bus.decode(low_end - 4, 4));
  CHECK(m.bus.decode(high_end - 8, 8));
  CHECK(m.bus.decode(high_end - 1, 1));
  // ...an access that runs past the end, or starts before the base, is not.
  CHECK_FALSE(m.bus.decode(low_end - 2, 4));
  CHECK_FALSE(m.bus.decode(high_end - 4, 8));
  CHECK_FALSE(m.bus.decode(kHighBase - 4, 8));
  CHECK(m.bus.mmio_read(high_end - 4, 8) == ~0ull);
  CHECK(m.bus.mmio_read(low_end - 1, 2) == 0xFFFF);
  CHECK_FALSE(m.bus.mmio_write(low_end - 2, 4, 1));

  // Nothing there at all; the top of the address space must not wrap.
  CHECK(m.bus.mmio_read(0x1000, 4) == 0xFFFF'FFFF);
  CHECK(m.bus.mmio_read(low_end, 1) == 0xFF);
  CHECK(m.bus.mmio_read(~0ull - 3, 8) == ~0ull);
  CHECK_FALSE(m.bus.mmio_write(~0ull, 1, 1));
  // Widths a bus cannot carry are never forwarded.
  CHECK_FALSE(m.bus.decode(kLowBase, 3));
  CHECK_FALSE(m.bus.decode(kLowBase, 16));
  CHECK_FALSE(m.bus.decode(kLowBase, 0));

  CHECK(m.a.writes.empty());
  CHECK(m.a.reads == 0);
}

TEST_CASE("pci: config hooks see device registers after the masked write", "[pci][bus]") {
  // A device-specific capability with one writable byte and a live read-only
  // counter, the way a transport exposes its own config registers.
  struct HookedFunction : RecordingFunction {
    HookedFunction() : RecordingFunction(0x1AF4, 0x1059) {
      const std::array<uint8_t, 6> body{};
      cap = *config().add_capability(reg::kCapIdVendorSpecific, body);
      config().set_write_mask(cap + 2, 1, 0x0F);
    }
    uint8_t cap = 0;
    unsigned last_written = 0;
    uint32_t generation = 0;

   protected:
    uint32_t on_config_read(uint16_t offset, unsigned width, uint32_t value) override {
      if (offset == cap + 4 && width == 4) return ++generation;
      return value;
    }
    void on_config_write(uint16_t offset, unsigned, uint32_t) override {
      if (offset == cap + 2) last_written = config().u8(cap + 2);
    }
  };
  PciBus bus;
  HookedFunction f;
  REQUIRE(bus.attach(Bdf{0, 1, 0}, &f) == PciError::kOk);

  bus.config_write(Bdf{0, 1, 0}, f.cap + 2, 1, 0xA5);
  CHECK(f.last_written == 0x05);  // the hook sees what the mask let through
  CHECK(bus.config_read(Bdf{0, 1, 0}, f.cap + 4, 4) == 1);
  CHECK(bus.config_read(Bdf{0, 1, 0}, f.cap + 4, 4) == 2);
}
