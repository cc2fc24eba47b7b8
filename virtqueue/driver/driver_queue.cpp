#include "virtqueue/driver/driver_queue.hpp"

#include "virtqueue/ordering.hpp"

namespace aerov::virtqueue {

const char* to_string(DriverStatus s) {
  switch (s) {
    case DriverStatus::kOk: return "ok";
    case DriverStatus::kEmpty: return "empty";
    case DriverStatus::kNoSpace: return "no free descriptors";
    case DriverStatus::kInvalidArgument: return "invalid argument";
    case DriverStatus::kBroken: return "queue broken";
  }
  return "unknown";
}

const char* to_string(BrokenReason r) {
  switch (r) {
    case BrokenReason::kNone: return "none";
    case BrokenReason::kUsedIdxAhead: return "used.idx more than queue size ahead";
    case BrokenReason::kUsedIdOutOfRange: return "used.id out of range";
    case BrokenReason::kUsedIdNotOutstanding: return "used.id not an outstanding head";
    case BrokenReason::kUsedLenTooLarge: return "used.len larger than the chain's writable bytes";
    case BrokenReason::kMarkedByOwner: return "marked broken by the transport";
  }
  return "unknown";
}

namespace {

uint8_t* bytes(void* p) { return static_cast<uint8_t*>(p); }

// memset is one of the intrinsics a kernel driver may link (see
// scripts/check-freestanding.sh). Ring setup runs on every device reset,
// which the simulation does often.
void zero(void* p, uint64_t n) { __builtin_memset(p, 0, static_cast<size_t>(n)); }

}  // namespace

DriverStatus DriverQueue::init(const DriverQueueConfig& cfg) {
  if (!is_valid_queue_size(cfg.size) || cfg.ring.va == nullptr || cfg.state == nullptr ||
      (cfg.ring.pa % kDescAlign) != 0 ||
      (reinterpret_cast<uintptr_t>(cfg.ring.va) % kDescAlign) != 0) {
    return DriverStatus::kInvalidArgument;
  }
  const bool pool = cfg.indirect_pool.va != nullptr && cfg.indirect_max != 0;
  if (pool && (cfg.indirect_min_segments < 2 ||
               (cfg.indirect_pool.pa % kDescAlign) != 0 ||
               (reinterpret_cast<uintptr_t>(cfg.indirect_pool.va) % kDescAlign) != 0)) {
    return DriverStatus::kInvalidArgument;
  }
  cfg_ = cfg;
  if (!pool) {
    cfg_.indirect_pool = DmaRegion{nullptr, 0};
    cfg_.indirect_max = 0;
  }
  size_ = cfg.size;
  layout_ = ring_layout(size_, cfg.event_idx);
  zero(cfg.ring.va, layout_.total_bytes);
  desc_ = reinterpret_cast<VirtqDesc*>(bytes(cfg.ring.va) + layout_.desc_offset);
  avail_ = reinterpret_cast<VirtqAvailHeader*>(bytes(cfg.ring.va) + layout_.avail_offset);
  used_ = reinterpret_cast<VirtqUsedHeader*>(bytes(cfg.ring.va) + layout_.used_offset);
  for (uint16_t i = 0; i < size_; ++i) {
    DescState& s = cfg_.state[i];
    s = DescState{};
    s.next = static_cast<uint16_t>(i + 1);  // the last one's link is never followed
  }
  free_head_ = 0;
  num_free_ = size_;
  outstanding_ = 0;
  avail_idx_ = published_idx_ = kicked_idx_ = last_used_ = 0;
  avail_flags_ = 0;
  broken_ = BrokenReason::kNone;
  return DriverStatus::kOk;
}

uint16_t* DriverQueue::avail_ring() const {
  return reinterpret_cast<uint16_t*>(avail_ + 1);
}

VirtqUsedElem* DriverQueue::used_ring() const {
  return reinterpret_cast<VirtqUsedElem*>(used_ + 1);
}

// With EVENT_IDX, used_event trails avail.ring[N] and avail_event trails
// used.ring[N].
uint16_t* DriverQueue::used_event() const { return avail_ring() + size_; }
uint16_t* DriverQueue::avail_event() const {
  return reinterpret_cast<uint16_t*>(used_ring() + size_);
}

bool DriverQueue::use_indirect(uint16_t count) const {
  return cfg_.indirect_max != 0 && count >= cfg_.indirect_min_segments &&
         count <= cfg_.indirect_max;
}

uint16_t DriverQueue::write_chain(VirtqDesc* table, uint16_t first, const Segment* segs,
                                  uint16_t count, bool linked_by_free_list) {
  uint16_t i = first;
  uint16_t last_index = first;
  for (uint16_t n = 0; n < count; ++n) {
    const bool last = n + 1 == count;
    const uint16_t next = linked_by_free_list ? cfg_.state[i].next : static_cast<uint16_t>(i + 1);
    VirtqDesc& d = table[i];
    d.addr = segs[n].addr;
    d.len = segs[n].len;
    d.flags = static_cast<uint16_t>((last ? 0 : kDescFNext) |
                                    (segs[n].device_writable ? kDescFWrite : 0));
    d.next = last ? 0 : next;
    last_index = i;
    i = next;
  }
  return last_index;
}

DriverStatus DriverQueue::add(const Segment* segs, uint16_t count, void* cookie) {
  if (broken()) return DriverStatus::kBroken;
  if (segs == nullptr || count == 0 || cookie == nullptr || count > size_) {
    return DriverStatus::kInvalidArgument;
  }
  // Validate the whole request before touching the ring: readable segments
  // first, and a writable total that used.len (le32) can express.
  uint64_t readable = 0, writable = 0;
  bool seen_writable = false;
  for (uint16_t n = 0; n < count; ++n) {
    if (segs[n].device_writable) {
      seen_writable = true;
      writable += segs[n].len;
    } else if (seen_writable) {
      return DriverStatus::kInvalidArgument;
    } else {
      readable += segs[n].len;
    }
  }
  // used.len (le32) must express the writable bytes, and a device refuses
  // chains over 2^32 bytes in all (VQ-7, project decision (a)).
  if (writable > 0xFFFFFFFFu || readable + writable > (1ull << 32)) {
    return DriverStatus::kInvalidArgument;
  }

  const bool indirect = use_indirect(count);
  const uint16_t ring_descs = indirect ? 1 : count;
  if (ring_descs > num_free_) return DriverStatus::kNoSpace;

  const uint16_t head = free_head_;
  uint16_t tail = head;
  if (indirect) {
    auto* table = reinterpret_cast<VirtqDesc*>(bytes(cfg_.indirect_pool.va)) +
                  static_cast<uint32_t>(head) * cfg_.indirect_max;
    write_chain(table, 0, segs, count, false);
    VirtqDesc& d = desc_[head];
    d.addr = cfg_.indirect_pool.pa + 16ull * head * cfg_.indirect_max;
    d.len = 16u * count;
    d.flags = kDescFIndirect;
    d.next = 0;
  } else {
    tail = write_chain(desc_, head, segs, count, true);
  }

  // Unlink the chain's descriptors from the free list (shadow links only).
  free_head_ = cfg_.state[tail].next;
  num_free_ = static_cast<uint16_t>(num_free_ - ring_descs);

  DescState& s = cfg_.state[head];
  s.cookie = cookie;
  s.writable_bytes = static_cast<uint32_t>(writable);
  s.num_descs = ring_descs;
  s.tail = tail;
  s.phase = kAdded;
  s.indirect = indirect ? 1 : 0;

  const uint16_t slot = static_cast<uint16_t>(avail_idx_ & (size_ - 1));
  avail_ring()[slot] = head;
  cfg_.state[slot].avail_head = head;
  avail_idx_ = static_cast<uint16_t>(avail_idx_ + 1);
  ++outstanding_;
  return DriverStatus::kOk;
}

void DriverQueue::publish() {
  if (broken()) return;
  for (uint16_t i = published_idx_; i != avail_idx_; i = static_cast<uint16_t>(i + 1)) {
    cfg_.state[cfg_.state[i & (size_ - 1)].avail_head].phase = kPublished;
  }
  // Release: descriptors and avail.ring slots written by add() become
  // visible to the device no later than the index that covers them (VQ-6).
  store_release(&avail_->idx, avail_idx_);
  published_idx_ = avail_idx_;
}

bool DriverQueue::kick_needed() {
  if (broken() || kicked_idx_ == published_idx_) return false;
  // Our avail.idx store must be visible before we read the device's
  // suppression state, or both sides could decide the other will act.
  full_fence();
  const uint16_t old_idx = kicked_idx_;
  kicked_idx_ = published_idx_;
  if (cfg_.event_idx) return need_event(load_relaxed(avail_event()), published_idx_, old_idx);
  return (load_relaxed(&used_->flags) & kUsedFNoNotify) == 0;
}

void DriverQueue::mark_broken(BrokenReason reason) {
  if (broken_ == BrokenReason::kNone) broken_ = reason;
}

void DriverQueue::free_chain(uint16_t head) {
  DescState& s = cfg_.state[head];
  cfg_.state[s.tail].next = free_head_;
  free_head_ = head;
  num_free_ = static_cast<uint16_t>(num_free_ + s.num_descs);
  s.cookie = nullptr;
  s.phase = kFree;
  s.num_descs = 0;
  s.writable_bytes = 0;
  s.indirect = 0;
  --outstanding_;
}

DriverStatus DriverQueue::get_used(UsedBuffer* out) {
  if (broken()) return DriverStatus::kBroken;
  // Acquire: the used element (and the data it covers) is read only after
  // the index that publishes it (VQ-6).
  const uint16_t used_idx = load_acquire(&used_->idx);
  if (used_idx == last_used_) return DriverStatus::kEmpty;
  if (static_cast<uint16_t>(used_idx - last_used_) > size_) {
    mark_broken(BrokenReason::kUsedIdxAhead);
    return DriverStatus::kBroken;
  }
  // Read each field exactly once: the device may rewrite them under us.
  const VirtqUsedElem* e = &used_ring()[last_used_ & (size_ - 1)];
  const uint32_t id = static_cast<const volatile VirtqUsedElem*>(e)->id;
  const uint32_t len = static_cast<const volatile VirtqUsedElem*>(e)->len;
  if (id >= size_) {
    mark_broken(BrokenReason::kUsedIdOutOfRange);
    return DriverStatus::kBroken;
  }
  DescState& s = cfg_.state[id];
  if (s.phase != kPublished) {
    mark_broken(BrokenReason::kUsedIdNotOutstanding);
    return DriverStatus::kBroken;
  }
  if (len > s.writable_bytes) {
    mark_broken(BrokenReason::kUsedLenTooLarge);
    return DriverStatus::kBroken;
  }
  out->cookie = s.cookie;
  out->len = len;
  free_chain(static_cast<uint16_t>(id));
  last_used_ = static_cast<uint16_t>(last_used_ + 1);
  if (cfg_.event_idx && (avail_flags_ & kAvailFNoInterrupt) == 0) {
    // Ask for an interrupt when the device moves past what we consumed.
    store_relaxed(used_event(), last_used_);
  }
  return DriverStatus::kOk;
}

void DriverQueue::disable_interrupts() {
  if ((avail_flags_ & kAvailFNoInterrupt) != 0) return;
  avail_flags_ = static_cast<uint16_t>(avail_flags_ | kAvailFNoInterrupt);
  if (cfg_.event_idx) {
    // A device using EVENT_IDX ignores the flag. Park used_event half the
    // index space ahead: the device interrupts only once its publications
    // since its last interrupt span 32768 entries. It is a hint either way;
    // the worst case is one spurious interrupt.
    store_relaxed(used_event(), static_cast<uint16_t>(last_used_ + 0x8000));
  } else {
    store_relaxed(&avail_->flags, avail_flags_);
  }
}

bool DriverQueue::enable_interrupts() {
  avail_flags_ = static_cast<uint16_t>(avail_flags_ & ~kAvailFNoInterrupt);
  if (cfg_.event_idx) {
    store_relaxed(used_event(), last_used_);
  } else {
    store_relaxed(&avail_->flags, avail_flags_);
  }
  // The hint must be visible before we look at used.idx, or a completion
  // published in between would raise no interrupt and go unseen.
  full_fence();
  return load_acquire(&used_->idx) != last_used_;
}

DriverStatus DriverQueue::detach_unused(void** cookie) {
  for (uint16_t i = 0; i < size_; ++i) {
    DescState& s = cfg_.state[i];
    if (s.phase != kFree && s.cookie != nullptr) {
      *cookie = s.cookie;
      free_chain(i);
      return DriverStatus::kOk;
    }
  }
  *cookie = nullptr;
  return DriverStatus::kEmpty;
}

}  // namespace aerov::virtqueue
