// virtio-blk wire format as the contract fixes it (BLK-3, BLK-4, BLK-5):
// request types, status values, the request header and the device
// configuration layout. Freestanding: shared by the device model, its tests,
// the conformance suite, the fuzzer and the driver core
// (drivers/windows7/common/blk_core.cpp), so both ends use one definition.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace aerov::model::devices::blk {

// Request types (BLK-5). The others are listed so tests can send them; the
// device answers each with kStatusUnsupp.
inline constexpr uint32_t kTypeIn = 0;
inline constexpr uint32_t kTypeOut = 1;
inline constexpr uint32_t kTypeFlush = 4;
inline constexpr uint32_t kTypeGetId = 8;         // VIRTIO_BLK_F_ID is not offered
inline constexpr uint32_t kTypeDiscard = 11;      // VIRTIO_BLK_F_DISCARD is never offered
inline constexpr uint32_t kTypeWriteZeroes = 13;  // VIRTIO_BLK_F_WRITE_ZEROES is never offered

// Status byte values (BLK-5).
inline constexpr uint8_t kStatusOk = 0;
inline constexpr uint8_t kStatusIoErr = 1;
inline constexpr uint8_t kStatusUnsupp = 2;

// The 16-byte device-readable header that starts every request (BLK-4).
struct RequestHeader {
  uint32_t type;
  uint32_t ioprio;  // drivers write 0; the device ignores it
  uint64_t sector;  // 512-byte units, whatever blk_size says
};
static_assert(sizeof(RequestHeader) == 16);
static_assert(offsetof(RequestHeader, sector) == 8);

inline constexpr uint32_t kHeaderBytes = sizeof(RequestHeader);
inline constexpr uint32_t kStatusBytes = 1;

// Device configuration (BLK-3), offsets in the DEVICE_CFG window.
inline constexpr uint32_t kConfigCapacity = 0x00;  // le64, 512-byte sectors
inline constexpr uint32_t kConfigSizeMax = 0x08;   // le32, always 0
inline constexpr uint32_t kConfigSegMax = 0x0C;    // le32
inline constexpr uint32_t kConfigGeometry = 0x10;  // 4 bytes, always 0
inline constexpr uint32_t kConfigBlkSize = 0x14;   // le32, 512
inline constexpr uint32_t kConfigBytes = 0x18;     // every later byte reads 0

inline constexpr uint32_t kBlkSize = 512;

}  // namespace aerov::model::devices::blk
