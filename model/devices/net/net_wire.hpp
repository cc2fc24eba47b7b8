// virtio-net wire format as the contract fixes it (NET-3..NET-5): the
// device configuration layout, the 10-byte header and the frame length
// limits. Freestanding: shared by the device model, its backends and tests,
// the fuzzer and the driver core (drivers/windows7/common/net_core.cpp), so
// both ends use one definition.
#pragma once

#include <stdint.h>

namespace aerov::model::devices::net {

// virtio_net_hdr without num_buffers (NET-4): MRG_RXBUF is never offered.
inline constexpr uint32_t kHeaderBytes = 10;

// Ethernet II without FCS (NET-5); 1522 includes one 802.1Q tag.
inline constexpr uint32_t kMinFrameBytes = 14;
inline constexpr uint32_t kMaxFrameBytes = 1522;

// Device configuration (NET-3).
inline constexpr uint32_t kConfigMac = 0x00;
inline constexpr uint32_t kConfigStatus = 0x06;
inline constexpr uint32_t kConfigMaxPairs = 0x08;
inline constexpr uint32_t kConfigBytes = 0x0A;
inline constexpr uint16_t kStatusLinkUp = 1;

}  // namespace aerov::model::devices::net
