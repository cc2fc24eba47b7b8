// MsixState: vector table, PBA and masking (PCI 3.0 section 6.8.2; contract
// IRQ-4: masked or unprogrammed causes are latched and delivered on unmask,
// vector 0xFFFF is never sent).
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "model/irq/msix_state.hpp"

namespace {

using aerov::model::irq::MsiMessage;
using aerov::model::irq::MsixOutcome;
using aerov::model::irq::MsixState;

constexpr uint64_t kLapicAddress = 0xFEE0'0000;
constexpr uint16_t kEnabled = MsixState::kControlEnable;

struct Harness {
  std::vector<MsiMessage> sent;
  MsixState msix;

  explicit Harness(uint16_t vectors) : msix(vectors, [this](const MsiMessage& m) { sent.push_back(m); }) {}

  static uint64_t entry(uint16_t vector, uint32_t field) { return uint64_t{vector} * 16 + field; }

  // The order a driver uses: address and data while masked, then unmask.
  void program(uint16_t vector, uint64_t address, uint32_t data) {
    msix.table_write(entry(vector, MsixState::kEntryAddressLo), 8, address);
    msix.table_write(entry(vector, MsixState::kEntryData), 4, data);
  }
  void set_masked(uint16_t vector, bool masked) {
    msix.table_write(entry(vector, MsixState::kEntryVectorControl), 4, masked ? 1 : 0);
  }
  void program_unmasked(uint16_t vector, uint32_t data) {
    program(vector, kLapicAddress, data);
    set_masked(vector, false);
  }
};

MsiMessage lapic(uint32_t data) { return MsiMessage{kLapicAddress, data}; }

}  // namespace

TEST_CASE("irq: msix delivers a programmed unmasked vector while enabled", "[irq][msix][IRQ-4]") {
  Harness h(4);
  h.msix.write_message_control(kEnabled);
  const uint64_t above_4g = 0x1'2345'6780ull;
  h.program(2, above_4g, 0x41);
  h.set_masked(2, false);

  CHECK(h.msix.signal(2) == MsixOutcome::kDelivered);
  REQUIRE(h.sent.size() == 1);
  CHECK(h.sent[0] == MsiMessage{above_4g, 0x41});
  CHECK_FALSE(h.msix.pending(2));
}

TEST_CASE("irq: msix per-vector mask latches in the PBA and unmask delivers once", "[irq][msix][IRQ-4]") {
  Harness h(4);
  h.msix.write_message_control(kEnabled);
  h.program(1, kLapicAddress, 0x51);  // entries start masked after reset

  CHECK(h.msix.signal(1) == MsixOutcome::kLatched);
  CHECK(h.msix.signal(1) == MsixOutcome::kLatched);  // pending is a bit, not a count
  CHECK(h.msix.pending(1));
  CHECK(h.msix.pba_read(0, 4) == 0b10);
  CHECK(h.sent.empty());

  h.set_masked(1, false);
  CHECK(h.sent == std::vector<MsiMessage>{lapic(0x51)});
  CHECK_FALSE(h.msix.pending(1));
  CHECK(h.msix.pba_read(0, 8) == 0);
}

TEST_CASE("irq: msix function mask latches every vector and clearing it delivers in vector order",
          "[irq][msix][IRQ-4]") {
  Harness h(70);  // two PBA QWORDs
  for (const uint16_t v : {0, 5, 69}) h.program_unmasked(v, 0x100u + v);
  h.msix.write_message_control(kEnabled | MsixState::kControlFunctionMask);

  for (const uint16_t v : {69, 0, 5}) CHECK(h.msix.signal(v) == MsixOutcome::kLatched);
  CHECK(h.msix.pba_read(0, 8) == ((1ull << 0) | (1ull << 5)));
  CHECK(h.msix.pba_read(8, 4) == (1u << 5));  // vector 69 = bit 5 of QWORD 1
  CHECK(h.sent.empty());

  h.msix.write_message_control(kEnabled);
  CHECK(h.sent == std::vector<MsiMessage>{lapic(0x100), lapic(0x105), lapic(0x145)});
  for (const uint16_t v : {0, 5, 69}) CHECK_FALSE(h.msix.pending(v));
}

TEST_CASE("irq: msix with the enable bit off latches and setting enable delivers", "[irq][msix][IRQ-4]") {
  Harness h(2);
  h.program_unmasked(0, 0x61);
  CHECK_FALSE(h.msix.enabled());
  CHECK(h.msix.signal(0) == MsixOutcome::kLatched);
  CHECK(h.sent.empty());

  h.msix.write_message_control(kEnabled);
  CHECK(h.msix.enabled());
  CHECK(h.sent == std::vector<MsiMessage>{lapic(0x61)});
}

TEST_CASE("irq: msix vector 0xFFFF and out-of-range vectors are dropped", "[irq][msix][IRQ-4]") {
  Harness h(2);
  h.program_unmasked(0, 0x71);
  h.program_unmasked(1, 0x72);
  h.msix.write_message_control(kEnabled);

  CHECK(h.msix.signal(MsixState::kNoVector) == MsixOutcome::kDropped);
  CHECK(h.msix.signal(2) == MsixOutcome::kDropped);
  CHECK(h.msix.signal(2047) == MsixOutcome::kDropped);
  CHECK(h.sent.empty());
  CHECK(h.msix.pba_read(0, 8) == 0);
  // Queries about nonexistent vectors answer safely.
  CHECK_FALSE(h.msix.pending(MsixState::kNoVector));
  CHECK(h.msix.vector_masked(MsixState::kNoVector));
  h.msix.clear_pending(MsixState::kNoVector);
}

TEST_CASE("irq: msix unprogrammed entry latches until programmed and re-unmasked", "[irq][msix][IRQ-4]") {
  Harness h(1);
  h.msix.write_message_control(kEnabled);
  h.set_masked(0, false);  // unmasked, but the address is still 0
  CHECK(h.msix.signal(0) == MsixOutcome::kLatched);

  h.program(0, kLapicAddress, 0x81);
  CHECK(h.sent.empty());  // address/data writes alone never deliver
  h.set_masked(0, false);  // a Vector Control write re-examines the PBA
  CHECK(h.sent == std::vector<MsiMessage>{lapic(0x81)});
}

TEST_CASE("irq: msix clear_pending withdraws a latched message", "[irq][msix][IRQ-4]") {
  Harness h(1);
  h.msix.write_message_control(kEnabled);
  h.program(0, kLapicAddress, 0x91);
  CHECK(h.msix.signal(0) == MsixOutcome::kLatched);
  h.msix.clear_pending(0);
  h.set_masked(0, false);
  CHECK(h.sent.empty());
}

TEST_CASE("irq: msix table entries are 16 bytes with 4- and 8-byte access", "[irq][msix]") {
  Harness h(3);
  CHECK(h.msix.table_bytes() == 48);
  CHECK(h.msix.pba_bytes() == 8);

  // Reset state: every entry masked, address and data zero.
  for (uint16_t v = 0; v < 3; ++v) {
    CHECK(h.msix.table_read(Harness::entry(v, MsixState::kEntryVectorControl), 4) == 1);
    CHECK(h.msix.table_read(Harness::entry(v, 0), 8) == 0);
  }

  h.msix.table_write(Harness::entry(1, MsixState::kEntryAddressLo), 4, 0xFEE0'1003);  // bits 1:0 reserved
  h.msix.table_write(Harness::entry(1, MsixState::kEntryAddressHi), 4, 0x0000'0002);
  CHECK(h.msix.table_read(Harness::entry(1, 0), 8) == 0x2'FEE0'1000ull);
  CHECK(h.msix.table_read(Harness::entry(1, 4), 4) == 2);

  // One QWORD write of data + vector control; reserved control bits read 0.
  h.msix.table_write(Harness::entry(1, MsixState::kEntryData), 8, 0xFFFF'FFFE'0000'00AAull);
  CHECK(h.msix.table_read(Harness::entry(1, MsixState::kEntryData), 4) == 0xAA);
  CHECK(h.msix.table_read(Harness::entry(1, MsixState::kEntryVectorControl), 4) == 0);
  CHECK_FALSE(h.msix.vector_masked(1));
  // Neighbours untouched.
  CHECK(h.msix.table_read(Harness::entry(0, 0), 8) == 0);
  CHECK(h.msix.table_read(Harness::entry(2, MsixState::kEntryVectorControl), 4) == 1);

  h.msix.reset();
  CHECK(h.msix.table_read(Harness::entry(1, 0), 8) == 0);
  CHECK(h.msix.vector_masked(1));
}

TEST_CASE("irq: msix bad table and PBA offsets or widths read 0 and drop writes", "[irq][msix]") {
  Harness h(2);
  h.program(0, kLapicAddress, 0x11);
  const auto snapshot = [&] {
    std::vector<uint64_t> v;
    for (uint64_t off = 0; off < h.msix.table_bytes(); off += 4) v.push_back(h.msix.table_read(off, 4));
    return v;
  };
  const auto before = snapshot();

  for (const unsigned width : {1u, 2u, 3u, 16u}) {
    CHECK(h.msix.table_read(0, width) == 0);
    h.msix.table_write(0, width, ~0ull);
  }
  CHECK(h.msix.table_read(2, 4) == 0);     // misaligned DWORD
  CHECK(h.msix.table_read(4, 8) == 0);     // misaligned QWORD
  CHECK(h.msix.table_read(32, 4) == 0);    // one past the table
  CHECK(h.msix.table_read(~0ull - 3, 4) == 0);  // offset + width would wrap
  h.msix.table_write(32, 4, ~0ull);
  h.msix.table_write(~0ull - 7, 8, ~0ull);
  CHECK(snapshot() == before);

  CHECK(h.msix.pba_read(8, 4) == 0);
  CHECK(h.msix.pba_read(1, 4) == 0);
}

TEST_CASE("irq: msix message control shows the table size and only enable/function mask change",
          "[irq][msix]") {
  MsixState msix(5);
  CHECK(msix.message_control() == 4);  // N - 1
  msix.write_message_control(0xFFFF);
  CHECK(msix.message_control() == (4 | MsixState::kControlEnable | MsixState::kControlFunctionMask));
  CHECK(msix.enabled());
  CHECK(msix.function_masked());
  msix.write_message_control(0);
  CHECK(msix.message_control() == 4);

  // Counts outside 1..2048 are clamped to what Table Size can say.
  CHECK(MsixState(0).vector_count() == 1);
  CHECK(MsixState(4000).vector_count() == MsixState::kMaxVectors);
  CHECK(MsixState(4000).message_control() == 0x7FF);
}
