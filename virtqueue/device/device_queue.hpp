// Device side of a split virtqueue: consumes the avail ring, walks chains,
// publishes used entries. Used by every device model.
//
// The guest is hostile. Every index, address and length read from guest
// memory is checked before use and read exactly once, every walk is bounded
// by the queue size, and every failure is a typed value:
//   - ChainError (contract VQ-7): one request is malformed. The chain's head
//     is still returned so the device completes it; later chains are served.
//   - RingError (contract VQ-8): the ring itself is corrupt. The queue stops
//     (pop keeps returning kRingError) and the device model must raise
//     DEVICE_NEEDS_RESET (STAT-4) until the driver resets it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/memory/guest_memory.hpp"
#include "virtqueue/layout.hpp"

namespace aerov::virtqueue {

enum class ChainError : uint8_t {
  kNone = 0,
  kNextOutOfRange,          // next >= N (or >= the indirect table's entries)
  kLoop,                    // a descriptor reached twice in one walk
  kChainTooLong,            // more than N descriptors in all
  kIndirectNotNegotiated,   // INDIRECT flag without VIRTIO_F_RING_INDIRECT_DESC
  kNestedIndirect,          // INDIRECT inside an indirect table
  kIndirectWithNext,        // INDIRECT and NEXT on one descriptor
  kIndirectBadLength,       // table len 0 or not a multiple of 16
  kIndirectTooLarge,        // table holds more than N entries
  kIndirectOutsideMemory,   // table not inside guest memory
  kAddrOverflow,            // addr + len wraps past 2^64
  kOutsideMemory,           // buffer not inside guest memory
  kTotalLenTooLarge,        // sum of lengths over 2^32
  kReadableAfterWritable,   // device-readable descriptor after a writable one
};

enum class RingError : uint8_t {
  kNone = 0,
  kBadSize,          // queue size zero, above 32768 or not a power of two
  kMisaligned,       // a ring part violates VQ-2 alignment
  kOutsideMemory,    // a ring part is not inside one guest-memory region
  kAvailIdxAhead,    // avail.idx more than N past the device's position
  kHeadOutOfRange,   // avail.ring[] names a head >= N
  kHeadInFlight,     // avail.ring[] names a head the device still owns
  kNotConfigured,    // used before configure() succeeded
};

std::string_view to_string(ChainError e);
std::string_view to_string(RingError e);

// One validated piece of a chain, in guest-physical terms.
struct ChainSegment {
  uint64_t addr;
  uint32_t len;
  bool writable;
};

// The result of walking one chain. Reused across pops so the hot path does
// not allocate after the first few requests.
struct DescChain {
  uint16_t head = 0;
  ChainError error = ChainError::kNone;
  uint64_t readable_bytes = 0;
  uint64_t writable_bytes = 0;
  // On a chain error: the segments validated before the error, so a device
  // can still find a status byte where the contract wants one written.
  std::vector<ChainSegment> segments;
};

struct DeviceQueueConfig {
  uint16_t size = 0;
  uint64_t desc = 0;   // guest-physical addresses as the driver programmed
  uint64_t avail = 0;
  uint64_t used = 0;
  bool indirect = false;   // VIRTIO_F_RING_INDIRECT_DESC negotiated
  bool event_idx = false;  // VIRTIO_F_RING_EVENT_IDX negotiated (non-contract)
};

enum class PopStatus : uint8_t {
  kEmpty,       // nothing new in the avail ring
  kChain,       // out holds a valid chain
  kChainError,  // out.head/out.error: complete it with an error, carry on
  kRingError,   // the queue is stopped; see ring_error()
};

class DeviceQueue {
 public:
  // Validates and caches the ring (the driver set queue_enable). Positions
  // start at 0 as after a device reset.
  RingError configure(model::GuestMemory& mem, DeviceQueueConfig cfg);  // by value: reset() clears config()
  void reset();

  // Takes the next available chain. A device model calls this at most
  // size() times per doorbell, then yields (VQ-8: bounded work per kick).
  PopStatus pop(DescChain& out);

  // Writes the used element, then publishes used.idx (release, VQ-6).
  // head must be a chain this queue popped and has not yet completed.
  bool push(uint16_t head, uint32_t len);

  // After one or more push(): whether the driver wants an interrupt for the
  // entries published since the previous call (VRING_AVAIL_F_NO_INTERRUPT,
  // or used_event with EVENT_IDX).
  bool should_interrupt();

  // Asks the driver not to notify (VRING_USED_F_NO_NOTIFY) while polling.
  void set_notify_suppressed(bool suppressed);

  // Chains the driver has made available and we have not popped, or 0 when
  // the ring is broken.
  uint16_t num_available() const;

  // vhost-user (SET_VRING_BASE / GET_VRING_BASE): a ring handed over with
  // no request in flight resumes at avail position `next_avail`; the used
  // index is taken from the ring as it stands. Only right after configure().
  void set_base(uint16_t next_avail);
  uint16_t next_avail() const { return last_avail_; }

  bool configured() const { return configured_; }
  RingError ring_error() const { return ring_error_; }
  uint16_t size() const { return cfg_.size; }
  uint16_t in_flight() const { return in_flight_; }
  const DeviceQueueConfig& config() const { return cfg_; }

 private:
  PopStatus fail_ring(RingError e);
  ChainError walk(uint16_t head, DescChain& out);
  ChainError walk_indirect(const VirtqDesc& d, uint32_t& budget, DescChain& out, bool& seen_writable);
  ChainError add_segment(const VirtqDesc& d, DescChain& out, bool& seen_writable);
  uint16_t avail_slot(uint16_t index) const;
  uint16_t load_avail_idx() const;
  VirtqDesc load_desc_at(const VirtqDesc* table, uint64_t table_gpa, uint16_t i) const;

  model::GuestMemory* mem_ = nullptr;
  DeviceQueueConfig cfg_{};
  const VirtqDesc* desc_ = nullptr;
  VirtqAvailHeader* avail_ = nullptr;
  VirtqUsedHeader* used_ = nullptr;
  bool configured_ = false;
  RingError ring_error_ = RingError::kNotConfigured;
  uint16_t last_avail_ = 0;    // next avail entry to consume
  uint16_t used_idx_ = 0;      // shadow of used.idx
  uint16_t signalled_idx_ = 0; // used.idx at the last interrupt decision
  uint16_t in_flight_ = 0;     // popped and not yet pushed
  // Loop detection without clearing per walk: an entry was visited in this
  // walk iff its stamp equals walk_stamp_.
  std::vector<uint16_t> visited_;
  std::vector<uint16_t> visited_indirect_;
  std::vector<uint8_t> owned_;  // 1 while a head is popped and not pushed
  uint16_t walk_stamp_ = 0;
};

}  // namespace aerov::virtqueue
