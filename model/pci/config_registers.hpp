// Type 0 configuration header offsets and bits (PCI Local Bus 3.0 section
// 6.2), named as the spec names them. Freestanding: the device models and
// the driver code (transport/driver) share this one table.
#pragma once

#include <stdint.h>

namespace aerov::model::pci::reg {

inline constexpr uint16_t kVendorId = 0x00;
inline constexpr uint16_t kDeviceId = 0x02;
inline constexpr uint16_t kCommand = 0x04;
inline constexpr uint16_t kStatus = 0x06;
inline constexpr uint16_t kRevisionId = 0x08;
inline constexpr uint16_t kProgIf = 0x09;
inline constexpr uint16_t kSubClass = 0x0A;
inline constexpr uint16_t kBaseClass = 0x0B;
inline constexpr uint16_t kCacheLineSize = 0x0C;
inline constexpr uint16_t kHeaderType = 0x0E;
inline constexpr uint16_t kBar0 = 0x10;  // six DWORD BAR registers follow
inline constexpr uint16_t kSubsystemVendorId = 0x2C;
inline constexpr uint16_t kSubsystemId = 0x2E;
inline constexpr uint16_t kCapabilitiesPointer = 0x34;
inline constexpr uint16_t kInterruptLine = 0x3C;
inline constexpr uint16_t kInterruptPin = 0x3D;
inline constexpr uint16_t kFirstCapability = 0x40;  // end of the standard header

// Command register.
inline constexpr uint16_t kCommandIoSpace = 1u << 0;
inline constexpr uint16_t kCommandMemorySpace = 1u << 1;
inline constexpr uint16_t kCommandBusMaster = 1u << 2;
inline constexpr uint16_t kCommandParityErrorResponse = 1u << 6;
inline constexpr uint16_t kCommandSerrEnable = 1u << 8;
inline constexpr uint16_t kCommandInterruptDisable = 1u << 10;

// Status register.
inline constexpr uint16_t kStatusInterrupt = 1u << 3;
inline constexpr uint16_t kStatusCapabilitiesList = 1u << 4;
// Error bits that software clears by writing 1 (RW1C): master data parity
// error, signaled/received target abort, received master abort, signaled
// system error, detected parity error.
inline constexpr uint16_t kStatusErrorBits = 0xF900;

inline constexpr uint8_t kHeaderTypeMultiFunction = 0x80;

// Memory BAR low bits (read-only).
inline constexpr uint32_t kBarIoSpace = 1u << 0;
inline constexpr uint32_t kBarType64 = 0b10u << 1;
inline constexpr uint32_t kBarTypeMask = 0b11u << 1;
inline constexpr uint32_t kBarPrefetchable = 1u << 3;
inline constexpr uint32_t kBarFlagsMask = 0xF;

inline constexpr uint8_t kCapIdMsix = 0x11;
inline constexpr uint8_t kCapIdVendorSpecific = 0x09;

}  // namespace aerov::model::pci::reg
