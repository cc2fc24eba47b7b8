// Driver side of a split virtqueue: the ring the Windows 7 drivers ship.
//
// Freestanding (architecture note): no heap, exceptions, RTTI or hosted
// library. The caller supplies every byte this queue uses: the ring memory
// (virtual address + DMA address), one DescState per descriptor, and an
// optional pool of indirect tables. Nothing here allocates.
//
// The device is not trusted (contract VQ-9). The queue keeps private shadows
// of everything it wrote (free list, chain lengths, writable byte counts,
// avail index) and never re-reads shared memory to learn its own state. A
// used entry that names a descriptor the device does not own, claims more
// bytes than the chain could hold, or an index that jumps too far marks the
// queue broken: from then on every operation fails with kBroken, nothing is
// freed twice, and the owner recovers by resetting the device (STAT-4),
// detaching the outstanding buffers and re-initialising the queue.
//
// Concurrency: the caller serialises all calls on one queue (one lock per
// queue in the kernel driver); the device runs concurrently.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "virtqueue/layout.hpp"

namespace aerov::virtqueue {

// A buffer the driver can hand to the device: its kernel virtual address and
// the bus address the device sees.
struct DmaRegion {
  void* va;
  uint64_t pa;
};

// One scatter-gather element of a request. Device-readable segments must
// come before device-writable ones (the order virtio requires).
struct Segment {
  uint64_t addr;
  uint32_t len;
  bool device_writable;
};

enum class DriverStatus : uint8_t {
  kOk = 0,
  kEmpty,            // get_used: nothing new; detach_unused: nothing left
  kNoSpace,          // add: not enough free descriptors
  kInvalidArgument,  // add/init: request or configuration the ring cannot carry
  kBroken,           // the device violated the ring protocol; reset needed
};

enum class BrokenReason : uint8_t {
  kNone = 0,
  kUsedIdxAhead,          // used.idx moved more than N past our position
  kUsedIdOutOfRange,      // used.id >= N
  kUsedIdNotOutstanding,  // used.id is not a head the device currently owns
  kUsedLenTooLarge,       // used.len exceeds the chain's writable bytes
  kMarkedByOwner,         // the transport saw DEVICE_NEEDS_RESET or similar
};

const char* to_string(DriverStatus s);
const char* to_string(BrokenReason r);

// Per-descriptor private state, one per ring entry, owned by the caller.
struct DescState {
  void* cookie;             // heads only: the caller's token for the request
  uint32_t writable_bytes;  // heads only: bound for used.len
  uint16_t next;            // shadow of desc.next: chain links and free list
  uint16_t num_descs;       // heads only: ring descriptors the chain holds
  uint16_t tail;            // heads only: last ring descriptor of the chain
  uint16_t avail_head;      // shadow of avail.ring[this index]
  uint8_t phase;            // DescPhase
  uint8_t indirect;         // heads only: chain lives in an indirect table
};

struct DriverQueueConfig {
  uint16_t size;            // queue_size read from the device (power of two)
  DmaRegion ring;           // ring_layout(size, event_idx).total_bytes, 16-aligned
  DescState* state;         // `size` entries
  bool event_idx;           // VIRTIO_F_RING_EVENT_IDX negotiated
  // Indirect tables: `size` tables of `indirect_max` descriptors each, table
  // h belongs to head h. Leave va null (or indirect_max 0) to use none.
  DmaRegion indirect_pool;
  uint16_t indirect_max;
  // Chains of at least this many segments go indirect when a pool exists
  // (>= 2; a one-segment chain gains nothing from a table).
  uint16_t indirect_min_segments;
};

struct UsedBuffer {
  void* cookie;
  uint32_t len;
};

class DriverQueue {
 public:
  // Lays out the ring in cfg.ring (zeroed), builds the free list and resets
  // every shadow. Outstanding buffers are forgotten: detach them first.
  DriverStatus init(const DriverQueueConfig& cfg);

  // Places a chain in the ring without publishing it. cookie must be
  // non-null; it comes back from get_used or detach_unused exactly once.
  DriverStatus add(const Segment* segs, uint16_t count, void* cookie);

  // Makes every added chain visible to the device (release ordering: the
  // descriptors and ring slots are written before avail.idx moves).
  void publish();

  // After publish(): true when the device asked to be notified about the
  // chains published since the last call (VRING_USED_F_NO_NOTIFY, or the
  // avail_event index when EVENT_IDX is negotiated).
  bool kick_needed();

  // Takes the next completed chain, checking the device's used entry first.
  DriverStatus get_used(UsedBuffer* out);

  // Interrupt suppression hints to the device.
  void disable_interrupts();
  // Re-enables them; returns true when used entries are already waiting, in
  // which case the caller must poll again or it could sleep forever.
  bool enable_interrupts();

  // After the device has been reset: releases one outstanding chain per call
  // and returns its cookie in *cookie (kEmpty when none is left).
  DriverStatus detach_unused(void** cookie);

  // The transport calls this when the device reports DEVICE_NEEDS_RESET.
  void mark_broken() { mark_broken(BrokenReason::kMarkedByOwner); }

  uint16_t size() const { return size_; }
  uint16_t num_free() const { return num_free_; }
  uint16_t num_outstanding() const { return outstanding_; }
  bool broken() const { return broken_ != BrokenReason::kNone; }
  BrokenReason broken_reason() const { return broken_; }
  const DmaRegion& ring() const { return cfg_.ring; }
  uint64_t desc_pa() const { return cfg_.ring.pa + layout_.desc_offset; }
  uint64_t avail_pa() const { return cfg_.ring.pa + layout_.avail_offset; }
  uint64_t used_pa() const { return cfg_.ring.pa + layout_.used_offset; }

 private:
  enum DescPhase : uint8_t { kFree = 0, kAdded = 1, kPublished = 2 };

  uint16_t* avail_ring() const;
  VirtqUsedElem* used_ring() const;
  uint16_t* used_event() const;
  uint16_t* avail_event() const;
  bool use_indirect(uint16_t count) const;
  // Returns the index of the chain's last descriptor.
  uint16_t write_chain(VirtqDesc* table, uint16_t first, const Segment* segs, uint16_t count,
                       bool linked_by_free_list);
  void free_chain(uint16_t head);
  void mark_broken(BrokenReason reason);

  DriverQueueConfig cfg_{};
  RingLayout layout_{};
  VirtqDesc* desc_ = nullptr;
  VirtqAvailHeader* avail_ = nullptr;
  VirtqUsedHeader* used_ = nullptr;
  uint16_t size_ = 0;
  uint16_t free_head_ = 0;
  uint16_t num_free_ = 0;
  uint16_t outstanding_ = 0;     // chains added and not yet returned
  uint16_t avail_idx_ = 0;       // shadow of what we will publish
  uint16_t published_idx_ = 0;   // last value stored to avail.idx
  uint16_t kicked_idx_ = 0;      // avail index at the last kick decision
  uint16_t last_used_ = 0;       // next used entry to consume
  uint16_t avail_flags_ = 0;     // shadow of avail.flags
  BrokenReason broken_ = BrokenReason::kNone;
};

}  // namespace aerov::virtqueue
