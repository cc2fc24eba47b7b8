// Little-endian loads and stores of 1..8 bytes, for device configuration
// and request headers (virtio is little-endian, VER-1), independent of the
// host's byte order and alignment. Freestanding.
#pragma once

#include <stdint.h>

namespace aerov::drivers::windows7 {

inline uint64_t load_le(const uint8_t* p, uint32_t bytes) {
  uint64_t v = 0;
  for (uint32_t i = bytes; i > 0; --i) v = (v << 8) | p[i - 1];
  return v;
}

inline void store_le(uint8_t* p, uint64_t v, uint32_t bytes) {
  for (uint32_t i = 0; i < bytes; ++i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace aerov::drivers::windows7
