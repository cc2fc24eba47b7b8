#include "model/pci/config_space.hpp"

#include <cassert>

#include "model/pci/all_ones.hpp"

namespace aerov::model::pci {

ConfigSpace::ConfigSpace() {
  set_write_mask(reg::kCommand, 2,
                 reg::kCommandMemorySpace | reg::kCommandBusMaster |
                     reg::kCommandParityErrorResponse | reg::kCommandSerrEnable |
                     reg::kCommandInterruptDisable);
  set_w1c_mask(reg::kStatus, 2, reg::kStatusErrorBits);
  set_write_mask(reg::kCacheLineSize, 1, 0xFF);
  set_write_mask(reg::kInterruptLine, 1, 0xFF);
}

bool ConfigSpace::access_ok(uint16_t offset, unsigned width) {
  if (width != 1 && width != 2 && width != 4) return false;
  return offset % width == 0 && offset + width <= kSize;
}

uint32_t ConfigSpace::read(uint16_t offset, unsigned width) const {
  if (!access_ok(offset, width)) return static_cast<uint32_t>(all_ones(width));
  return load(offset, width);
}

namespace {

// Does [offset, offset + width) touch Command, Header Type or a BAR?
bool decides_decoding(uint32_t offset, unsigned width) {
  const auto touches = [&](uint32_t lo, uint32_t hi) { return offset < hi && lo < offset + width; };
  return touches(reg::kCommand, reg::kCommand + 2) ||
         touches(reg::kHeaderType, reg::kHeaderType + 1) ||
         touches(reg::kBar0, reg::kBar0 + 4 * 6);
}

}  // namespace

void ConfigSpace::write(uint16_t offset, unsigned width, uint32_t value) {
  if (!access_ok(offset, width)) return;
  if (decides_decoding(offset, width)) ++decode_epoch_;
  for (unsigned i = 0; i < width; ++i) {
    const auto in = static_cast<uint8_t>(value >> (8 * i));
    uint8_t& cur = bytes_[offset + i];
    const uint8_t mask = write_mask_[offset + i];
    cur = static_cast<uint8_t>((cur & ~mask) | (in & mask));
    cur = static_cast<uint8_t>(cur & ~(in & w1c_mask_[offset + i]));
  }
}

// Device-side accessors work in uint32_t so offset arithmetic cannot wrap a
// uint16_t back into range; bytes past the end read 0 and are not written.
uint32_t ConfigSpace::load_clipped(uint32_t offset, unsigned width) const {
  uint32_t value = 0;
  for (unsigned i = 0; i < width; ++i) {
    if (offset + i < kSize) value |= uint32_t{bytes_[offset + i]} << (8 * i);
  }
  return value;
}

void ConfigSpace::store(uint32_t offset, unsigned width, uint32_t value) {
  if (decides_decoding(offset, width)) ++decode_epoch_;
  for (unsigned i = 0; i < width; ++i) {
    if (offset + i < kSize) bytes_[offset + i] = static_cast<uint8_t>(value >> (8 * i));
  }
}

void ConfigSpace::set_write_mask(uint16_t offset, unsigned width, uint32_t mask) {
  for (unsigned i = 0; i < width && uint32_t{offset} + i < kSize; ++i) {
    write_mask_[offset + i] = static_cast<uint8_t>(mask >> (8 * i));
  }
}

void ConfigSpace::set_w1c_mask(uint16_t offset, unsigned width, uint32_t mask) {
  for (unsigned i = 0; i < width && uint32_t{offset} + i < kSize; ++i) {
    w1c_mask_[offset + i] = static_cast<uint8_t>(mask >> (8 * i));
  }
}

void ConfigSpace::set_ids(uint16_t vendor_id, uint16_t device_id) {
  set_u16(reg::kVendorId, vendor_id);
  set_u16(reg::kDeviceId, device_id);
}

void ConfigSpace::set_class_code(uint8_t base_class, uint8_t sub_class, uint8_t prog_if) {
  set_u8(reg::kBaseClass, base_class);
  set_u8(reg::kSubClass, sub_class);
  set_u8(reg::kProgIf, prog_if);
}

void ConfigSpace::set_subsystem_ids(uint16_t subsystem_vendor_id, uint16_t subsystem_id) {
  set_u16(reg::kSubsystemVendorId, subsystem_vendor_id);
  set_u16(reg::kSubsystemId, subsystem_id);
}

void ConfigSpace::set_multi_function(bool multi_function) {
  const uint8_t type = header_type() & static_cast<uint8_t>(~reg::kHeaderTypeMultiFunction);
  set_u8(reg::kHeaderType, multi_function ? type | reg::kHeaderTypeMultiFunction : type);
}

std::optional<uint8_t> ConfigSpace::add_capability(uint8_t id, std::span<const uint8_t> body) {
  const size_t length = 2 + body.size();
  const size_t aligned = (length + 3) & ~size_t{3};
  if (aligned > size_t{kSize} - next_capability_) return std::nullopt;
  const auto offset = static_cast<uint8_t>(next_capability_);
  assert(offset % 4 == 0 && offset >= reg::kFirstCapability);

  set_u8(offset, id);
  set_u8(offset + 1, 0);  // end of list until another is appended
  for (size_t i = 0; i < body.size(); ++i) store(static_cast<uint32_t>(offset + 2 + i), 1, body[i]);
  // Capabilities only grow upward, so every link points forward: the list is
  // acyclic by construction.
  set_u8(last_capability_ == 0 ? reg::kCapabilitiesPointer : last_capability_ + 1, offset);
  set_u16(reg::kStatus, status() | reg::kStatusCapabilitiesList);

  last_capability_ = offset;
  next_capability_ = static_cast<uint16_t>(next_capability_ + aligned);
  return offset;
}

}  // namespace aerov::model::pci
