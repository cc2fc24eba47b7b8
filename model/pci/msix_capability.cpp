#include "model/pci/msix_capability.hpp"

#include <array>

namespace aerov::model::pci {

namespace {

constexpr uint16_t kMaxVectors = 2048;
constexpr uint16_t kControlWritable = 0xC000;  // Enable (15), Function Mask (14)
constexpr uint8_t kMaxBir = 5;

}  // namespace

std::optional<uint8_t> add_msix_capability(ConfigSpace& config, const MsixCapabilityLayout& layout) {
  if (layout.vector_count == 0 || layout.vector_count > kMaxVectors) return std::nullopt;
  if (layout.table_bar > kMaxBir || layout.pba_bar > kMaxBir) return std::nullopt;
  // The low 3 bits of each offset register carry the BIR.
  if (layout.table_offset % 8 != 0 || layout.pba_offset % 8 != 0) return std::nullopt;

  const auto control = static_cast<uint16_t>(layout.vector_count - 1);
  const uint32_t table = layout.table_offset | layout.table_bar;
  const uint32_t pba = layout.pba_offset | layout.pba_bar;
  // Body = capability bytes 2..11, little-endian.
  const std::array<uint8_t, 10> body{
      static_cast<uint8_t>(control), static_cast<uint8_t>(control >> 8),
      static_cast<uint8_t>(table), static_cast<uint8_t>(table >> 8),
      static_cast<uint8_t>(table >> 16), static_cast<uint8_t>(table >> 24),
      static_cast<uint8_t>(pba), static_cast<uint8_t>(pba >> 8),
      static_cast<uint8_t>(pba >> 16), static_cast<uint8_t>(pba >> 24)};
  const auto offset = config.add_capability(reg::kCapIdMsix, body);
  if (offset) config.set_write_mask(*offset + kMsixMessageControl, 2, kControlWritable);
  return offset;
}

}  // namespace aerov::model::pci
