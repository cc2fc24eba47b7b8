#include "model/irq/msix_state.hpp"

#include <algorithm>
#include <cassert>

namespace aerov::model::irq {

namespace {

constexpr uint64_t kDwordMask = 0xFFFF'FFFFull;

// True when [offset, offset + width) is an aligned 4- or 8-byte access that
// lies inside a structure of `size` bytes.
bool access_ok(uint64_t offset, unsigned width, uint32_t size) {
  if (width != 4 && width != 8) return false;
  if (offset % width != 0) return false;
  return offset < size && width <= size - offset;
}

}  // namespace

MsixState::MsixState(uint16_t vector_count, MsiSink sink)
    : sink_(std::move(sink)),
      entries_(std::clamp<uint16_t>(vector_count, 1, kMaxVectors)),
      pba_((entries_.size() + 63) / 64, 0) {}

void MsixState::reset() {
  std::fill(entries_.begin(), entries_.end(), Entry{});
  std::fill(pba_.begin(), pba_.end(), 0);
  enabled_ = false;
  function_masked_ = false;
}

uint16_t MsixState::message_control() const {
  uint16_t value = static_cast<uint16_t>(vector_count() - 1) & kControlTableSizeMask;
  if (function_masked_) value |= kControlFunctionMask;
  if (enabled_) value |= kControlEnable;
  return value;
}

void MsixState::write_message_control(uint16_t value) {
  enabled_ = (value & kControlEnable) != 0;
  function_masked_ = (value & kControlFunctionMask) != 0;
  deliver_pending();
}

uint64_t MsixState::table_read(uint64_t offset, unsigned width) const {
  if (!access_ok(offset, width, table_bytes())) return 0;
  const auto dword = static_cast<uint32_t>(offset);
  uint64_t value = read_dword(dword);
  if (width == 8) value |= uint64_t{read_dword(dword + 4)} << 32;
  return value;
}

void MsixState::table_write(uint64_t offset, unsigned width, uint64_t value) {
  if (!access_ok(offset, width, table_bytes())) return;
  const auto dword = static_cast<uint32_t>(offset);
  // Low DWORD first: an 8-byte write of data + vector control must land the
  // new data before an unmask can deliver.
  write_dword(dword, static_cast<uint32_t>(value & kDwordMask));
  if (width == 8) write_dword(dword + 4, static_cast<uint32_t>(value >> 32));
}

uint64_t MsixState::pba_read(uint64_t offset, unsigned width) const {
  if (!access_ok(offset, width, pba_bytes())) return 0;
  const uint64_t word = pba_[offset / 8];
  if (width == 8) return word;
  return (offset % 8 == 0 ? word : word >> 32) & kDwordMask;
}

MsixOutcome MsixState::signal(uint16_t vector) {
  // kNoVector (0xFFFF) is >= kMaxVectors, so this also drops "no vector".
  static_assert(kNoVector >= kMaxVectors);
  if (vector >= vector_count()) return MsixOutcome::kDropped;
  if (!deliverable(vector)) {
    set_pending(vector, true);
    return MsixOutcome::kLatched;
  }
  deliver(vector);
  return MsixOutcome::kDelivered;
}

void MsixState::clear_pending(uint16_t vector) {
  if (vector < vector_count()) set_pending(vector, false);
}

bool MsixState::pending(uint16_t vector) const {
  if (vector >= vector_count()) return false;
  return (pba_[vector / 64] >> (vector % 64)) & 1;
}

bool MsixState::vector_masked(uint16_t vector) const {
  if (vector >= vector_count()) return true;
  return (entries_[vector].vector_control & kVectorControlMaskBit) != 0;
}

bool MsixState::deliverable(uint16_t vector) const {
  assert(vector < vector_count());
  const Entry& e = entries_[vector];
  // A zero address is never a valid MSI target (x86 uses 0xFEExxxxx); it
  // means software has not programmed the entry yet.
  const bool programmed = (e.address_lo | e.address_hi) != 0;
  return enabled_ && !function_masked_ && !vector_masked(vector) && programmed;
}

void MsixState::deliver(uint16_t vector) {
  assert(deliverable(vector));
  const Entry& e = entries_[vector];
  const MsiMessage message{(uint64_t{e.address_hi} << 32) | e.address_lo, e.data};
  // One message satisfies the owed one, if any: pending is not a counter.
  set_pending(vector, false);
  if (sink_) sink_(message);
}

void MsixState::deliver_pending() {
  // Ascending vector order keeps delivery order deterministic. The bound is
  // the table size; the state is re-checked per vector because the sink may
  // write registers while we iterate.
  for (uint16_t vector = 0; vector < vector_count(); ++vector) {
    if (pba_[vector / 64] == 0) {
      vector = static_cast<uint16_t>(vector | 63);  // skip an empty PBA word
      continue;
    }
    if (pending(vector) && deliverable(vector)) deliver(vector);
  }
}

uint32_t MsixState::read_dword(uint32_t offset) const {
  const Entry& e = entries_[offset / kEntryBytes];
  switch (offset % kEntryBytes) {
    case kEntryAddressLo: return e.address_lo;
    case kEntryAddressHi: return e.address_hi;
    case kEntryData: return e.data;
    default: return e.vector_control;
  }
}

void MsixState::write_dword(uint32_t offset, uint32_t value) {
  const auto vector = static_cast<uint16_t>(offset / kEntryBytes);
  Entry& e = entries_[vector];
  switch (offset % kEntryBytes) {
    // Bits 1:0 of the address are reserved so messages stay DWORD-aligned.
    case kEntryAddressLo: e.address_lo = value & ~uint32_t{3}; break;
    case kEntryAddressHi: e.address_hi = value; break;
    case kEntryData: e.data = value; break;
    default:
      // Bits 31:1 are reserved (read 0). Any write of this register may
      // unmask, so latched messages for this vector are re-examined.
      e.vector_control = value & kVectorControlMaskBit;
      if (pending(vector) && deliverable(vector)) deliver(vector);
      break;
  }
}

void MsixState::set_pending(uint16_t vector, bool pending) {
  const uint64_t bit = uint64_t{1} << (vector % 64);
  if (pending) {
    pba_[vector / 64] |= bit;
  } else {
    pba_[vector / 64] &= ~bit;
  }
}

}  // namespace aerov::model::irq
