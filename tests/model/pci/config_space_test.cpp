// ConfigSpace: header fields, write masks, RW1C, the capability list
// (contract PCI-5: status bit 4 and pointer at 0x34; CAP-2: acyclic, aligned).
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "model/pci/config_space.hpp"

namespace {

namespace reg = aerov::model::pci::reg;
using aerov::model::pci::ConfigSpace;

ConfigSpace identity_header() {
  ConfigSpace c;
  c.set_ids(0x1AF4, 0x1042);
  c.set_revision_id(0x01);
  c.set_class_code(0x01, 0x00, 0x00);
  c.set_subsystem_ids(0x1AF4, 0x0002);
  c.set_interrupt_pin(1);
  return c;
}

// Follows next pointers from 0x34 the way a driver would, with the bound a
// driver needs against hostile devices: at most 48 capabilities fit in 192
// bytes.
std::vector<uint8_t> walk(const ConfigSpace& c) {
  std::vector<uint8_t> offsets;
  uint8_t next = static_cast<uint8_t>(c.read(reg::kCapabilitiesPointer, 1));
  while (next != 0 && offsets.size() < 48) {
    offsets.push_back(next);
    next = static_cast<uint8_t>(c.read(next + 1, 1));
  }
  REQUIRE(next == 0);  // terminated rather than cut off by the bound
  return offsets;
}

}  // namespace

TEST_CASE("pci: read-only header fields cannot be written", "[pci][config][PCI-1][PCI-5][PCI-7]") {
  ConfigSpace c = identity_header();
  const ConfigSpace before = c;
  // Everything in the header except Command, Status, Cache Line Size and
  // Interrupt Line is read-only for a BAR-less function.
  for (uint16_t off = 0; off < reg::kFirstCapability; off += 4) {
    if (off == reg::kCommand || off == reg::kCacheLineSize || off == reg::kInterruptLine) continue;
    c.write(off, 4, 0x5A5A'5A5A);
    CAPTURE(off);
    CHECK(c.read(off, 4) == before.read(off, 4));
  }
  CHECK(c.vendor_id() == 0x1AF4);
  CHECK(c.device_id() == 0x1042);
  CHECK(c.read(reg::kRevisionId, 4) == 0x0100'0001);  // class 01/00/00, revision 1
  CHECK(c.read(reg::kInterruptPin, 1) == 1);

  // Interrupt Line is software scratch: writable, next to the read-only pin.
  c.write(reg::kInterruptLine, 2, 0x0B0B);
  CHECK(c.read(reg::kInterruptLine, 2) == 0x010B);
}

TEST_CASE("pci: command register keeps only its defined writable bits", "[pci][config][BAR-4]") {
  ConfigSpace c;
  c.write(reg::kCommand, 2, 0xFFFF);
  // I/O Space (bit 0) is hardwired 0: this machine's functions have no I/O BARs.
  CHECK(c.command() == (reg::kCommandMemorySpace | reg::kCommandBusMaster |
                        reg::kCommandParityErrorResponse | reg::kCommandSerrEnable |
                        reg::kCommandInterruptDisable));
  c.write(reg::kCommand, 2, 0);
  CHECK(c.command() == 0);
}

TEST_CASE("pci: status error bits are write-one-to-clear, the rest read-only", "[pci][config]") {
  ConfigSpace c;
  c.set_u16(reg::kStatus, 0xF900 | reg::kStatusCapabilitiesList | reg::kStatusInterrupt);
  c.write(reg::kStatus, 2, 0x2000 | reg::kStatusCapabilitiesList | reg::kStatusInterrupt);
  CHECK(c.status() == (0xD900 | reg::kStatusCapabilitiesList | reg::kStatusInterrupt));
  c.write(reg::kStatus, 2, 0);  // writing 0 changes nothing
  CHECK(c.status() == (0xD900 | reg::kStatusCapabilitiesList | reg::kStatusInterrupt));
  c.write(reg::kStatus, 2, 0xFFFF);
  CHECK(c.status() == (reg::kStatusCapabilitiesList | reg::kStatusInterrupt));
}

TEST_CASE("pci: capability list is walkable, acyclic and 4-byte aligned", "[pci][config][PCI-5][CAP-2]") {
  ConfigSpace c = identity_header();
  CHECK((c.status() & reg::kStatusCapabilitiesList) == 0);
  CHECK(walk(c).empty());

  // Odd body lengths force the builder to pad to the next DWORD.
  const std::array<uint8_t, 14> vendor{14, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const std::array<uint8_t, 1> one{0xAB};
  const std::array<uint8_t, 18> notify{18, 2};
  const auto a = c.add_capability(reg::kCapIdVendorSpecific, vendor);
  const auto b = c.add_capability(0x05, one);
  const auto d = c.add_capability(reg::kCapIdVendorSpecific, notify);
  const auto e = c.add_capability(0x01, {});
  REQUIRE((a && b && d && e));
  CHECK(*a == 0x40);
  CHECK(*b == 0x50);  // 0x40 + 16
  CHECK(*d == 0x54);  // 0x50 + 3 rounded up to 4
  CHECK(*e == 0x68);  // 0x54 + 20

  CHECK((c.status() & reg::kStatusCapabilitiesList) != 0);
  const auto offsets = walk(c);
  CHECK(offsets == std::vector<uint8_t>{*a, *b, *d, *e});
  std::set<uint8_t> seen;
  for (const uint8_t off : offsets) {
    CHECK(off % 4 == 0);
    CHECK(off >= reg::kFirstCapability);
    CHECK(seen.insert(off).second);
  }
  CHECK(c.read(*b, 4) == 0x00AB'5405);  // id, next, body
  CHECK(c.read(*d + 2, 2) == 0x0212);

  // The builder's links are read-only to the guest.
  c.write(reg::kCapabilitiesPointer, 1, *d);
  c.write(*a + 1, 1, *a);
  CHECK(walk(c) == offsets);
}

TEST_CASE("pci: a capability that does not fit is refused", "[pci][config]") {
  ConfigSpace c;
  const std::array<uint8_t, 186> big{};  // 2 + 186 = 188 bytes of 192
  REQUIRE(c.add_capability(0x09, big) == uint8_t{0x40});
  const std::array<uint8_t, 3> small{};
  CHECK_FALSE(c.add_capability(0x09, small));  // 5 -> 8 bytes, only 4 left
  CHECK(c.add_capability(0x09, std::array<uint8_t, 2>{}) == uint8_t{0xFC});
  CHECK_FALSE(c.add_capability(0x09, {}));
  CHECK(walk(c) == std::vector<uint8_t>{0x40, 0xFC});
}

TEST_CASE("pci: misaligned, oversized or out-of-range config accesses read all-ones and drop writes",
          "[pci][config]") {
  ConfigSpace c = identity_header();
  c.write(reg::kCommand, 2, reg::kCommandBusMaster);
  CHECK(c.read(0x01, 2) == 0xFFFF);       // straddles vendor/device
  CHECK(c.read(0x02, 4) == 0xFFFF'FFFF);  // straddles a DWORD
  CHECK(c.read(0xFF, 2) == 0xFFFF);       // runs past byte 255
  CHECK(c.read(0x100, 1) == 0xFF);
  CHECK(c.read(0x00, 3) == 0xFF'FFFF);
  CHECK(c.read(0x00, 8) == 0xFFFF'FFFF);
  c.write(0x03, 2, 0xFFFF);  // would reach Command bit 1
  c.write(0x05, 1, 0xFF);    // aligned byte: this one lands
  CHECK(c.command() == (reg::kCommandBusMaster | reg::kCommandInterruptDisable |
                        reg::kCommandSerrEnable));
  // Aligned narrow accesses are fine anywhere.
  CHECK(c.read(0x03, 1) == 0x10);
  CHECK(c.read(0x02, 2) == 0x1042);
}
