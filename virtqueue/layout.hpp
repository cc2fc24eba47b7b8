// Split-virtqueue wire format (virtio 1.2 section 2.7, contract VQ-1, VQ-2,
// VQ-4). Freestanding: shared by the Windows drivers and the device models.
//
// All fields are little-endian on the wire. Every target of this project
// (x86/x64 Windows, x86-64 Linux hosts) is little-endian, so the structs use
// native integers and a static_assert guards the assumption.
#pragma once

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtqueue/layout.hpp assumes a little-endian target"
#endif

namespace aerov::virtqueue {

// Descriptor flags (VQ-4).
inline constexpr uint16_t kDescFNext = 1;
inline constexpr uint16_t kDescFWrite = 2;
inline constexpr uint16_t kDescFIndirect = 4;

// Ring flags: the driver asks for no interrupt, the device for no notify.
inline constexpr uint16_t kAvailFNoInterrupt = 1;
inline constexpr uint16_t kUsedFNoNotify = 1;

// Transport-independent feature bits that change the ring (FEAT-1).
inline constexpr uint32_t kFRingIndirectDesc = 28;
inline constexpr uint32_t kFRingEventIdx = 29;
inline constexpr uint32_t kFVersion1 = 32;
inline constexpr uint32_t kFRingPacked = 34;

// The spec's upper bound on a split queue size.
inline constexpr uint32_t kQueueSizeMax = 32768;

struct VirtqDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct VirtqUsedElem {
  uint32_t id;
  uint32_t len;
};

// Fixed parts of the avail and used rings; ring[] follows each header.
struct VirtqAvailHeader {
  uint16_t flags;
  uint16_t idx;
};

struct VirtqUsedHeader {
  uint16_t flags;
  uint16_t idx;
};

static_assert(sizeof(VirtqDesc) == 16 && alignof(VirtqDesc) <= 16);
static_assert(offsetof(VirtqDesc, addr) == 0 && offsetof(VirtqDesc, len) == 8);
static_assert(offsetof(VirtqDesc, flags) == 12 && offsetof(VirtqDesc, next) == 14);
static_assert(sizeof(VirtqUsedElem) == 8);
static_assert(sizeof(VirtqAvailHeader) == 4 && sizeof(VirtqUsedHeader) == 4);

// Alignment of each part in guest memory (VQ-2).
inline constexpr uint64_t kDescAlign = 16;
inline constexpr uint64_t kAvailAlign = 2;
inline constexpr uint64_t kUsedAlign = 4;

constexpr bool is_valid_queue_size(uint32_t size) {
  return size != 0 && size <= kQueueSizeMax && (size & (size - 1)) == 0;
}

// Byte sizes of the three parts (VQ-1). With EVENT_IDX each ring carries one
// extra le16 after ring[N] (used_event in avail, avail_event in used); the
// contract never negotiates it, but the driver ring supports non-contract
// devices that offer it.
constexpr uint64_t desc_table_bytes(uint32_t size) { return 16ull * size; }
constexpr uint64_t avail_ring_bytes(uint32_t size, bool event_idx) {
  return 4ull + 2ull * size + (event_idx ? 2u : 0u);
}
constexpr uint64_t used_ring_bytes(uint32_t size, bool event_idx) {
  return 4ull + 8ull * size + (event_idx ? 2u : 0u);
}

static_assert(desc_table_bytes(128) == 2048);
static_assert(avail_ring_bytes(256, false) == 516);
static_assert(used_ring_bytes(64, false) == 516);

constexpr uint64_t align_up(uint64_t value, uint64_t align) {
  return (value + align - 1) & ~(align - 1);
}

// Offsets of the parts when a driver places a queue in one contiguous
// allocation: descriptors, then avail, then used at its alignment.
struct RingLayout {
  uint64_t desc_offset;
  uint64_t avail_offset;
  uint64_t used_offset;
  uint64_t total_bytes;
};

constexpr RingLayout ring_layout(uint32_t size, bool event_idx) {
  const uint64_t avail = desc_table_bytes(size);
  const uint64_t used = align_up(avail + avail_ring_bytes(size, event_idx), kUsedAlign);
  return RingLayout{0, avail, used, used + used_ring_bytes(size, event_idx)};
}

static_assert(ring_layout(256, false).used_offset == 4096 + 516);
static_assert(ring_layout(256, false).total_bytes == 4096 + 516 + 2052);

// Event-index test (virtio 1.2 2.7.7.2 / 2.7.10): true when `event_idx` lies
// in the window of indices published since the last notification.
constexpr bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event_idx - 1) <
         static_cast<uint16_t>(new_idx - old_idx);
}

}  // namespace aerov::virtqueue
