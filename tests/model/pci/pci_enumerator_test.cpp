// enumerate(): what firmware and the OS do before a driver loads — scan,
// size, place, enable (contract PCI-6 discovery, BAR-4 enables).
#include <cstdint>

#include <catch2/catch.hpp>

#include "model/pci/pci_enumerator.hpp"
#include "tests/model/pci/recording_function.hpp"

namespace {

namespace reg = aerov::model::pci::reg;
using aerov::model::pci::BarSpec;
using aerov::model::pci::BarType;
using aerov::model::pci::Bdf;
using aerov::model::pci::EnumerationConfig;
using aerov::model::pci::PciBus;
using aerov::model::pci::PciError;
using aerov::model::pci::testing::RecordingFunction;

constexpr uint64_t kLowWindow = 0xC000'0000;
constexpr uint64_t kHighWindow = 0x40'0000'0000ull;
const EnumerationConfig kWindows{{kLowWindow, 0x1000'0000}, {kHighWindow, 0x40'0000'0000ull}};

}  // namespace

TEST_CASE("pci: enumerator sizes and places BARs, 64-bit ones above 4 GiB, and enables them",
          "[pci][enum][BAR-4]") {
  PciBus bus;
  RecordingFunction blk(0x1AF4, 0x1042);
  RecordingFunction other(0x8086, 0x100E);
  REQUIRE(blk.declare_bar(0, BarSpec{0x4000, BarType::kMemory64, false}) == PciError::kOk);
  REQUIRE(other.declare_bar(0, BarSpec{0x20000, BarType::kMemory32, false}) == PciError::kOk);
  REQUIRE(other.declare_bar(1, BarSpec{0x100, BarType::kMemory32, false}) == PciError::kOk);
  REQUIRE(bus.attach(Bdf{0, 4, 0}, &blk) == PciError::kOk);
  REQUIRE(bus.attach(Bdf{0, 2, 0}, &other) == PciError::kOk);

  const auto result = aerov::model::pci::enumerate(bus, kWindows);
  REQUIRE(result.status == PciError::kOk);
  REQUIRE(result.functions.size() == 2);

  const auto& first = result.functions[0];  // BDF order
  CHECK(first.bdf == Bdf{0, 2, 0});
  CHECK(first.vendor_id == 0x8086);
  REQUIRE(first.bars.size() == 2);
  CHECK(first.bars[0].address == kLowWindow);
  CHECK(first.bars[0].size == 0x20000);
  CHECK(first.bars[1].address == kLowWindow + 0x20000);
  CHECK(first.bars[1].size == 0x100);

  const auto& second = result.functions[1];
  CHECK(second.device_id == 0x1042);
  REQUIRE(second.bars.size() == 1);
  CHECK(second.bars[0].index == 0);
  CHECK(second.bars[0].is_64bit);
  CHECK(second.bars[0].size == 0x4000);
  CHECK(second.bars[0].address == kHighWindow);

  for (const RecordingFunction* f : {&blk, &other}) {
    CHECK(f->memory_space_enabled());
    CHECK(f->bus_master_enabled());
  }
  CHECK(blk.bar_address(0) == kHighWindow);
  // The placement is live: the bus routes to it.
  CHECK(bus.mmio_read(kHighWindow + 0x3000, 2) == (RecordingFunction::pattern(0, 0x3000) & 0xFFFF));
  CHECK(bus.mmio_read(kLowWindow + 0x20010, 1) == (RecordingFunction::pattern(1, 0x10) & 0xFF));
}

TEST_CASE("pci: enumerator finds functions 1..7 only behind the multi-function bit", "[pci][enum][PCI-6]") {
  PciBus bus;
  RecordingFunction keyboard(0x1AF4, 0x1052);
  RecordingFunction mouse(0x1AF4, 0x1052);
  RecordingFunction tablet(0x1AF4, 0x1052);
  REQUIRE(bus.attach(Bdf{0, 6, 0}, &keyboard) == PciError::kOk);
  REQUIRE(bus.attach(Bdf{0, 6, 1}, &mouse) == PciError::kOk);
  REQUIRE(bus.attach(Bdf{0, 6, 2}, &tablet) == PciError::kOk);

  auto result = aerov::model::pci::enumerate(bus, kWindows);
  REQUIRE(result.functions.size() == 1);
  CHECK(result.functions[0].bdf == Bdf{0, 6, 0});
  CHECK_FALSE(mouse.bus_master_enabled());

  keyboard.config().set_multi_function(true);
  result = aerov::model::pci::enumerate(bus, kWindows);
  REQUIRE(result.functions.size() == 3);
  CHECK(result.functions[0].header_type == 0x80);
  CHECK(result.functions[1].bdf == Bdf{0, 6, 1});
  CHECK(result.functions[2].bdf == Bdf{0, 6, 2});
  CHECK(mouse.bus_master_enabled());
  CHECK(tablet.bus_master_enabled());
}

TEST_CASE("pci: enumerator without a high window places 64-bit BARs below 4 GiB", "[pci][enum]") {
  PciBus bus;
  RecordingFunction f(0x1AF4, 0x1041);
  REQUIRE(f.declare_bar(2, BarSpec{0x4000, BarType::kMemory64, true}) == PciError::kOk);
  REQUIRE(bus.attach(Bdf{1, 0, 0}, &f) == PciError::kOk);  // buses past 0 are scanned too

  const auto result = aerov::model::pci::enumerate(bus, {{0xF000'1000, 0x10000}, {}});
  REQUIRE(result.status == PciError::kOk);
  REQUIRE(result.functions.size() == 1);
  CHECK(result.functions[0].bars.at(0).index == 2);
  CHECK(result.functions[0].bars.at(0).prefetchable);
  CHECK(f.bar_address(2) == 0xF000'4000);  // aligned up to the BAR size
}

TEST_CASE("pci: enumerator leaves a function disabled when its BAR does not fit", "[pci][enum][BAR-4]") {
  PciBus bus;
  RecordingFunction fits(0x1AF4, 0x1041);
  RecordingFunction too_big(0x1AF4, 0x1042);
  REQUIRE(fits.declare_bar(0, BarSpec{0x1000, BarType::kMemory32, false}) == PciError::kOk);
  REQUIRE(too_big.declare_bar(0, BarSpec{0x10000, BarType::kMemory32, false}) == PciError::kOk);
  REQUIRE(bus.attach(Bdf{0, 1, 0}, &fits) == PciError::kOk);
  REQUIRE(bus.attach(Bdf{0, 2, 0}, &too_big) == PciError::kOk);

  const auto result = aerov::model::pci::enumerate(bus, {{0xC000'0000, 0x8000}, {}});
  CHECK(result.status == PciError::kNoSpace);
  REQUIRE(result.functions.size() == 2);
  CHECK(result.functions[0].enabled);
  CHECK_FALSE(result.functions[1].enabled);
  CHECK(result.functions[1].bars.at(0).address == 0);
  CHECK(fits.memory_space_enabled());
  CHECK_FALSE(too_big.memory_space_enabled());
  CHECK_FALSE(too_big.bus_master_enabled());

  // A 32-bit BAR is never placed at or above 4 GiB, even if the low window
  // was configured to reach there.
  PciBus bus2;
  RecordingFunction low_only(0x1AF4, 0x1041);
  REQUIRE(low_only.declare_bar(0, BarSpec{0x1000, BarType::kMemory32, false}) == PciError::kOk);
  REQUIRE(bus2.attach(Bdf{0, 0, 0}, &low_only) == PciError::kOk);
  CHECK(aerov::model::pci::enumerate(bus2, {{0x1'0000'0000ull, 0x10000}, {}}).status == PciError::kNoSpace);
  CHECK_FALSE(low_only.memory_space_enabled());
}
