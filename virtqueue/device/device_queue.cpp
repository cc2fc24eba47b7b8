#include "virtqueue/device/device_queue.hpp"

#include <cstddef>
#include <cstring>

#include "virtqueue/ordering.hpp"

namespace aerov::virtqueue {

std::string_view to_string(ChainError e) {
  switch (e) {
    case ChainError::kNone: return "none";
    case ChainError::kNextOutOfRange: return "next index out of range";
    case ChainError::kLoop: return "descriptor loop";
    case ChainError::kChainTooLong: return "chain longer than the queue size";
    case ChainError::kIndirectNotNegotiated: return "INDIRECT without RING_INDIRECT_DESC";
    case ChainError::kNestedIndirect: return "nested indirect table";
    case ChainError::kIndirectWithNext: return "INDIRECT together with NEXT";
    case ChainError::kIndirectBadLength: return "indirect length zero or not a multiple of 16";
    case ChainError::kIndirectTooLarge: return "indirect table larger than the queue size";
    case ChainError::kIndirectOutsideMemory: return "indirect table outside guest memory";
    case ChainError::kAddrOverflow: return "address + length overflows";
    case ChainError::kOutsideMemory: return "buffer outside guest memory";
    case ChainError::kTotalLenTooLarge: return "chain total length over 2^32";
    case ChainError::kReadableAfterWritable: return "device-readable descriptor after a writable one";
  }
  return "unknown";
}

std::string_view to_string(RingError e) {
  switch (e) {
    case RingError::kNone: return "none";
    case RingError::kBadSize: return "invalid queue size";
    case RingError::kMisaligned: return "ring part misaligned";
    case RingError::kOutsideMemory: return "ring part outside guest memory";
    case RingError::kAvailIdxAhead: return "avail.idx more than queue size ahead";
    case RingError::kHeadOutOfRange: return "avail ring head out of range";
    case RingError::kHeadInFlight: return "avail ring head already in flight";
    case RingError::kNotConfigured: return "queue not configured";
  }
  return "unknown";
}

namespace {

constexpr uint64_t kChainBytesMax = 1ull << 32;  // VQ-7: total length over 2^32 fails

VirtqDesc load_desc(const VirtqDesc* p) {
  // One copy, then only the copy is inspected: the guest may rewrite the
  // descriptor while we look at it (no double fetch).
  VirtqDesc d;
  std::memcpy(&d, p, sizeof d);
  return d;
}

}  // namespace

void DeviceQueue::reset() {
  mem_ = nullptr;
  cfg_ = DeviceQueueConfig{};
  desc_ = nullptr;
  avail_ = nullptr;
  used_ = nullptr;
  configured_ = false;
  ring_error_ = RingError::kNotConfigured;
  last_avail_ = used_idx_ = signalled_idx_ = in_flight_ = 0;
  visited_.clear();
  visited_indirect_.clear();
  owned_.clear();
  walk_stamp_ = 0;
}

RingError DeviceQueue::configure(model::GuestMemory& mem, DeviceQueueConfig cfg) {
  reset();
  if (!is_valid_queue_size(cfg.size)) return ring_error_ = RingError::kBadSize;
  if (cfg.desc % kDescAlign != 0 || cfg.avail % kAvailAlign != 0 || cfg.used % kUsedAlign != 0) {
    return ring_error_ = RingError::kMisaligned;
  }
  uint8_t* desc = mem.translate(cfg.desc, desc_table_bytes(cfg.size));
  uint8_t* avail = mem.translate(cfg.avail, avail_ring_bytes(cfg.size, cfg.event_idx));
  uint8_t* used = mem.translate(cfg.used, used_ring_bytes(cfg.size, cfg.event_idx));
  if (desc == nullptr || avail == nullptr || used == nullptr) {
    return ring_error_ = RingError::kOutsideMemory;
  }
  mem_ = &mem;
  cfg_ = cfg;
  desc_ = reinterpret_cast<const VirtqDesc*>(desc);
  avail_ = reinterpret_cast<VirtqAvailHeader*>(avail);
  used_ = reinterpret_cast<VirtqUsedHeader*>(used);
  visited_.assign(cfg.size, 0);
  visited_indirect_.assign(cfg.size, 0);
  owned_.assign(cfg.size, 0);
  configured_ = true;
  ring_error_ = RingError::kNone;
  return RingError::kNone;
}

void DeviceQueue::set_base(uint16_t next_avail) {
  if (!configured_ || in_flight_ != 0) return;
  last_avail_ = next_avail;
  used_idx_ = load_acquire(&used_->idx);
  signalled_idx_ = used_idx_;
}

PopStatus DeviceQueue::fail_ring(RingError e) {
  ring_error_ = e;
  return PopStatus::kRingError;
}

// Every load from driver-owned ring memory is reported with the value it
// returned (GuestMemory::note_read), so a recorder sees what we saw.
uint16_t DeviceQueue::avail_slot(uint16_t index) const {
  const auto* ring = reinterpret_cast<const uint16_t*>(avail_ + 1);
  const uint16_t slot = index & (cfg_.size - 1);
  const uint16_t head = load_relaxed(&ring[slot]);
  mem_->note_read(cfg_.avail + sizeof(VirtqAvailHeader) + 2ull * slot, &head, sizeof head);
  return head;
}

uint16_t DeviceQueue::load_avail_idx() const {
  const uint16_t idx = load_acquire(&avail_->idx);
  mem_->note_read(cfg_.avail + offsetof(VirtqAvailHeader, idx), &idx, sizeof idx);
  return idx;
}

VirtqDesc DeviceQueue::load_desc_at(const VirtqDesc* table, uint64_t table_gpa, uint16_t i) const {
  const VirtqDesc d = load_desc(&table[i]);
  mem_->note_read(table_gpa + sizeof(VirtqDesc) * i, &d, sizeof d);
  return d;
}

uint16_t DeviceQueue::num_available() const {
  if (ring_error_ != RingError::kNone) return 0;
  const uint16_t pending = static_cast<uint16_t>(load_avail_idx() - last_avail_);
  return pending > cfg_.size ? 0 : pending;
}

PopStatus DeviceQueue::pop(DescChain& out) {
  if (ring_error_ != RingError::kNone) return PopStatus::kRingError;
  // Acquire: the ring slot and descriptors are read only after the index
  // that published them (VQ-6).
  const uint16_t avail_idx = load_avail_idx();
  const uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending == 0) return PopStatus::kEmpty;
  // An index further ahead than the ring holds would make us re-process
  // stale slots without end: a guest-triggered denial of service (VQ-8).
  if (pending > cfg_.size) return fail_ring(RingError::kAvailIdxAhead);
  const uint16_t head = avail_slot(last_avail_);
  if (head >= cfg_.size) return fail_ring(RingError::kHeadOutOfRange);
  // Two owners of one descriptor chain cannot both be completed correctly.
  if (owned_[head] != 0) return fail_ring(RingError::kHeadInFlight);
  last_avail_ = static_cast<uint16_t>(last_avail_ + 1);
  if (cfg_.event_idx) {
    auto* avail_event = reinterpret_cast<uint16_t*>(
        reinterpret_cast<VirtqUsedElem*>(used_ + 1) + cfg_.size);
    store_relaxed(avail_event, last_avail_);
    mem_->note_write(cfg_.used + (reinterpret_cast<uint8_t*>(avail_event) - reinterpret_cast<uint8_t*>(used_)),
                     sizeof *avail_event);
  }

  out.head = head;
  out.readable_bytes = 0;
  out.writable_bytes = 0;
  out.segments.clear();
  out.error = walk(head, out);
  owned_[head] = 1;
  ++in_flight_;
  return out.error == ChainError::kNone ? PopStatus::kChain : PopStatus::kChainError;
}

ChainError DeviceQueue::add_segment(const VirtqDesc& d, DescChain& out, bool& seen_writable) {
  const bool writable = (d.flags & kDescFWrite) != 0;
  if (writable) {
    seen_writable = true;
  } else if (seen_writable) {
    return ChainError::kReadableAfterWritable;
  }
  // Zero-length descriptors touch no memory, so their address is not
  // checked; each device model decides what such a buffer means.
  if (d.len != 0) {
    if (d.addr + d.len < d.addr) return ChainError::kAddrOverflow;
    if (mem_->translate(d.addr, d.len) == nullptr &&
        mem_->check(d.addr, d.len) != model::MemError::kOk) {
      return ChainError::kOutsideMemory;
    }
  }
  if (out.readable_bytes + out.writable_bytes + d.len > kChainBytesMax) {
    return ChainError::kTotalLenTooLarge;
  }
  (writable ? out.writable_bytes : out.readable_bytes) += d.len;
  out.segments.push_back(ChainSegment{d.addr, d.len, writable});
  return ChainError::kNone;
}

ChainError DeviceQueue::walk(uint16_t head, DescChain& out) {
  walk_stamp_ = static_cast<uint16_t>(walk_stamp_ + 1);
  if (walk_stamp_ == 0) {  // stamps wrapped: old marks could alias
    visited_.assign(cfg_.size, 0);
    visited_indirect_.assign(cfg_.size, 0);
    walk_stamp_ = 1;
  }
  // A chain holds at most N buffer descriptors in all, direct plus indirect
  // entries (the descriptor that points at a table is not a buffer): this
  // budget bounds the walk even if every other check were wrong.
  uint32_t budget = cfg_.size;
  bool seen_writable = false;
  uint16_t i = head;
  for (;;) {
    if (visited_[i] == walk_stamp_) return ChainError::kLoop;
    visited_[i] = walk_stamp_;
    const VirtqDesc d = load_desc_at(desc_, cfg_.desc, i);
    if ((d.flags & kDescFIndirect) != 0) {
      if (!cfg_.indirect) return ChainError::kIndirectNotNegotiated;
      if ((d.flags & kDescFNext) != 0) return ChainError::kIndirectWithNext;
      return walk_indirect(d, budget, out, seen_writable);
    }
    if (budget == 0) return ChainError::kChainTooLong;
    --budget;
    if (const ChainError e = add_segment(d, out, seen_writable); e != ChainError::kNone) return e;
    if ((d.flags & kDescFNext) == 0) return ChainError::kNone;
    if (d.next >= cfg_.size) return ChainError::kNextOutOfRange;
    i = d.next;
  }
}

ChainError DeviceQueue::walk_indirect(const VirtqDesc& table, uint32_t& budget, DescChain& out,
                                      bool& seen_writable) {
  if (table.len == 0 || table.len % sizeof(VirtqDesc) != 0) return ChainError::kIndirectBadLength;
  const uint32_t entries = table.len / static_cast<uint32_t>(sizeof(VirtqDesc));
  if (entries > cfg_.size) return ChainError::kIndirectTooLarge;
  if (table.addr + table.len < table.addr) return ChainError::kAddrOverflow;
  // A table inside one region is read in place; one spanning adjacent
  // regions is read entry by entry through the checked accessor.
  const auto* direct = reinterpret_cast<const VirtqDesc*>(mem_->translate(table.addr, table.len));
  if (direct == nullptr && mem_->check(table.addr, table.len) != model::MemError::kOk) {
    return ChainError::kIndirectOutsideMemory;
  }
  uint16_t i = 0;
  for (;;) {
    if (visited_indirect_[i] == walk_stamp_) return ChainError::kLoop;
    visited_indirect_[i] = walk_stamp_;
    if (budget == 0) return ChainError::kChainTooLong;
    --budget;
    VirtqDesc d;
    if (direct != nullptr) {
      d = load_desc_at(direct, table.addr, i);
    } else {
      mem_->read_obj(table.addr + sizeof(VirtqDesc) * i, &d);  // range checked above
    }
    if ((d.flags & kDescFIndirect) != 0) return ChainError::kNestedIndirect;
    if (const ChainError e = add_segment(d, out, seen_writable); e != ChainError::kNone) return e;
    if ((d.flags & kDescFNext) == 0) return ChainError::kNone;
    if (d.next >= entries) return ChainError::kNextOutOfRange;
    i = d.next;
  }
}

bool DeviceQueue::push(uint16_t head, uint32_t len) {
  if (ring_error_ != RingError::kNone || head >= cfg_.size || owned_[head] == 0) return false;
  auto* ring = reinterpret_cast<VirtqUsedElem*>(used_ + 1);
  VirtqUsedElem& e = ring[used_idx_ & (cfg_.size - 1)];
  e.id = head;
  e.len = len;
  used_idx_ = static_cast<uint16_t>(used_idx_ + 1);
  // Release: the element (and every buffer byte the device wrote before
  // calling push) is visible before the index that publishes it (VQ-6).
  store_release(&used_->idx, used_idx_);
  mem_->note_write(cfg_.used + (reinterpret_cast<uint8_t*>(&e) - reinterpret_cast<uint8_t*>(used_)),
                   sizeof(e));
  mem_->note_write(cfg_.used, sizeof(VirtqUsedHeader));
  owned_[head] = 0;
  --in_flight_;
  return true;
}

bool DeviceQueue::should_interrupt() {
  if (ring_error_ != RingError::kNone || used_idx_ == signalled_idx_) return false;
  // Our used.idx store must be visible before we read the driver's
  // suppression state, or the driver could re-enable interrupts, see no new
  // entries, and sleep while we decide not to interrupt.
  full_fence();
  const uint16_t old_idx = signalled_idx_;
  signalled_idx_ = used_idx_;
  if (cfg_.event_idx) {
    const auto* ring = reinterpret_cast<const uint16_t*>(avail_ + 1);
    const uint16_t used_event = load_relaxed(&ring[cfg_.size]);
    mem_->note_read(cfg_.avail + sizeof(VirtqAvailHeader) + 2ull * cfg_.size, &used_event, sizeof used_event);
    return need_event(used_event, used_idx_, old_idx);
  }
  const uint16_t flags = load_relaxed(&avail_->flags);
  mem_->note_read(cfg_.avail + offsetof(VirtqAvailHeader, flags), &flags, sizeof flags);
  return (flags & kAvailFNoInterrupt) == 0;
}

void DeviceQueue::set_notify_suppressed(bool suppressed) {
  if (!configured_) return;
  store_relaxed(&used_->flags, suppressed ? kUsedFNoNotify : uint16_t{0});
  mem_->note_write(cfg_.used, sizeof(used_->flags));
}

}  // namespace aerov::virtqueue
