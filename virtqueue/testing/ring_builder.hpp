// Test doubles shared by tests/, conformance/, fuzz/ and bench/.
//
// RingBuilder is a "mock driver" that writes raw ring state into guest
// memory, including states no correct driver would produce, so hostile-guest
// cases can be built precisely. QueuePair wires the real driver ring and the
// real device ring to one guest memory, meeting only there, as in a machine.
#pragma once

#include <cstdint>
#include <vector>

#include "model/memory/guest_memory.hpp"
#include "virtqueue/device/device_queue.hpp"
#include "virtqueue/driver/driver_queue.hpp"
#include "virtqueue/layout.hpp"

namespace aerov::virtqueue::testing {

class RingBuilder {
 public:
  // Places a queue of `size` at `base` (16-aligned) followed by a scratch
  // area of `scratch_bytes` for buffers and indirect tables; all of it must
  // already be mapped in `mem`.
  RingBuilder(model::GuestMemory& mem, uint16_t size, uint64_t base, bool event_idx = false,
              uint64_t scratch_bytes = 1 << 20);

  DeviceQueueConfig config(bool indirect) const;

  uint16_t size() const { return size_; }
  uint64_t desc_addr() const { return base_ + layout_.desc_offset; }
  uint64_t avail_addr() const { return base_ + layout_.avail_offset; }
  uint64_t used_addr() const { return base_ + layout_.used_offset; }

  // Bump allocation in the scratch area (never freed; tests are short).
  uint64_t alloc(uint64_t bytes, uint64_t align = 16);
  void reset_scratch() { next_scratch_ = scratch_base_; }

  void set_desc(uint16_t index, const VirtqDesc& d);
  void set_desc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    set_desc(index, VirtqDesc{addr, len, flags, next});
  }
  // Writes entry `index` of an indirect table at `table`.
  void set_table_entry(uint64_t table, uint16_t index, const VirtqDesc& d);

  // Appends `head` to the avail ring and publishes it.
  void make_available(uint16_t head);
  void set_avail_idx(uint16_t idx);
  uint16_t avail_idx() const;
  void set_avail_flags(uint16_t flags);
  void set_used_event(uint16_t v);

  uint16_t used_idx() const;
  VirtqUsedElem used_elem(uint16_t position) const;

 private:
  template <typename T>
  T read(uint64_t gpa) const;
  template <typename T>
  void write(uint64_t gpa, const T& v);

  model::GuestMemory& mem_;
  uint16_t size_;
  uint64_t base_;
  bool event_idx_;
  RingLayout layout_;
  uint64_t scratch_base_;
  uint64_t scratch_end_;
  uint64_t next_scratch_;
};

// A driver ring and a device ring over one guest memory.
struct QueuePairOptions {
  uint16_t size = 256;
  uint64_t ring_gpa = 0x10000;         // where the driver places its ring
  uint64_t indirect_gpa = 0x100000;    // the driver's indirect-table pool
  uint16_t indirect_max = 0;           // 0: no indirect tables
  uint16_t indirect_min_segments = 2;
  bool event_idx = false;
};

class QueuePair {
 public:
  QueuePair(model::GuestMemory& mem, const QueuePairOptions& options);

  DriverQueue driver;
  DeviceQueue device;

  // Guest-physical bytes the pool and ring need, for mapping memory first.
  static uint64_t ring_bytes(const QueuePairOptions& o);
  static uint64_t pool_bytes(const QueuePairOptions& o);

 private:
  std::vector<DescState> state_;
};

}  // namespace aerov::virtqueue::testing
