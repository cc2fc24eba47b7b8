// virtio-pci modern register map (virtio 1.2 section 4.1; contract sections
// 1-4). Freestanding: shared by the transport's driver and device ends.
#pragma once

#include <stdint.h>

#include "model/pci/config_registers.hpp"

namespace aerov::transport {

// Generic PCI header registers: model/pci/config_registers.hpp (pci::reg).
namespace reg = model::pci::reg;

// struct virtio_pci_cap: {u8 cap_vndr, cap_next, cap_len, cfg_type, bar, id,
// padding[2]; le32 offset; le32 length}, then le32 notify_off_multiplier for
// the notify capability.
inline constexpr uint8_t kVirtioCapCfgType = 3;
inline constexpr uint8_t kVirtioCapBar = 4;
inline constexpr uint8_t kVirtioCapOffset = 8;
inline constexpr uint8_t kVirtioCapLength = 12;
inline constexpr uint8_t kVirtioCapNotifyMultiplier = 16;
inline constexpr uint8_t kVirtioCapLenMin = 16;        // CAP-2
inline constexpr uint8_t kVirtioNotifyCapLenMin = 20;  // CAP-2

enum class VirtioCapType : uint8_t {
  kCommon = 1,
  kNotify = 2,
  kIsr = 3,
  kDevice = 4,
  kPci = 5,
};

// Common configuration structure offsets (contract section 3).
namespace common {
inline constexpr uint32_t kDeviceFeatureSelect = 0x00;
inline constexpr uint32_t kDeviceFeature = 0x04;
inline constexpr uint32_t kDriverFeatureSelect = 0x08;
inline constexpr uint32_t kDriverFeature = 0x0C;
inline constexpr uint32_t kMsixConfig = 0x10;
inline constexpr uint32_t kNumQueues = 0x12;
inline constexpr uint32_t kDeviceStatus = 0x14;
inline constexpr uint32_t kConfigGeneration = 0x15;
inline constexpr uint32_t kQueueSelect = 0x16;
inline constexpr uint32_t kQueueSize = 0x18;
inline constexpr uint32_t kQueueMsixVector = 0x1A;
inline constexpr uint32_t kQueueEnable = 0x1C;
inline constexpr uint32_t kQueueNotifyOff = 0x1E;
inline constexpr uint32_t kQueueDesc = 0x20;
inline constexpr uint32_t kQueueAvail = 0x28;
inline constexpr uint32_t kQueueUsed = 0x30;
inline constexpr uint32_t kSize = 0x38;  // 56 bytes
}  // namespace common

// Device status bits (STAT-1).
inline constexpr uint8_t kStatusAcknowledge = 0x01;
inline constexpr uint8_t kStatusDriver = 0x02;
inline constexpr uint8_t kStatusDriverOk = 0x04;
inline constexpr uint8_t kStatusFeaturesOk = 0x08;
inline constexpr uint8_t kStatusNeedsReset = 0x40;
inline constexpr uint8_t kStatusFailed = 0x80;

// ISR bits (ISR-1).
inline constexpr uint8_t kIsrQueue = 0x01;
inline constexpr uint8_t kIsrConfig = 0x02;

inline constexpr uint16_t kNoVector = 0xFFFF;

// The contract's fixed BAR0 layout (BAR-1, BAR-2, NTF-1).
namespace bar0 {
inline constexpr uint64_t kSize = 0x4000;
inline constexpr uint32_t kCommonOffset = 0x0000;
inline constexpr uint32_t kCommonLength = 0x100;
inline constexpr uint32_t kNotifyOffset = 0x1000;
inline constexpr uint32_t kNotifyLength = 0x100;
inline constexpr uint32_t kIsrOffset = 0x2000;
inline constexpr uint32_t kIsrLength = 0x20;
inline constexpr uint32_t kDeviceOffset = 0x3000;
inline constexpr uint32_t kDeviceLength = 0x100;
inline constexpr uint32_t kNotifyOffMultiplier = 4;
}  // namespace bar0

}  // namespace aerov::transport
