#include "virtqueue/testing/ring_builder.hpp"

#include <stdexcept>
#include <string>

namespace aerov::virtqueue::testing {

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("test ring setup: ") + what);
}

}  // namespace

RingBuilder::RingBuilder(model::GuestMemory& mem, uint16_t size, uint64_t base, bool event_idx,
                         uint64_t scratch_bytes)
    : mem_(mem), size_(size), base_(base), event_idx_(event_idx),
      layout_(ring_layout(size, event_idx)) {
  require(is_valid_queue_size(size) && base % kDescAlign == 0, "bad size or base");
  scratch_base_ = next_scratch_ = align_up(base + layout_.total_bytes, 4096);
  scratch_end_ = scratch_base_ + scratch_bytes;
  require(mem.check(base, scratch_end_ - base) == model::MemError::kOk, "ring not mapped");
  // A fresh ring: all zeroes, as a driver leaves it before queue_enable.
  const std::vector<uint8_t> zeros(layout_.total_bytes, 0);
  mem.write(base, zeros.data(), zeros.size());
}

DeviceQueueConfig RingBuilder::config(bool indirect) const {
  return DeviceQueueConfig{size_, desc_addr(), avail_addr(), used_addr(), indirect, event_idx_};
}

uint64_t RingBuilder::alloc(uint64_t bytes, uint64_t align) {
  const uint64_t at = align_up(next_scratch_, align);
  require(at + bytes <= scratch_end_, "scratch area exhausted");
  next_scratch_ = at + bytes;
  return at;
}

template <typename T>
T RingBuilder::read(uint64_t gpa) const {
  T v{};
  require(mem_.read_obj(gpa, &v) == model::MemError::kOk, "read outside memory");
  return v;
}

template <typename T>
void RingBuilder::write(uint64_t gpa, const T& v) {
  require(mem_.write_obj(gpa, v) == model::MemError::kOk, "write outside memory");
}

void RingBuilder::set_desc(uint16_t index, const VirtqDesc& d) {
  require(index < size_, "descriptor index");
  write(desc_addr() + 16ull * index, d);
}

void RingBuilder::set_table_entry(uint64_t table, uint16_t index, const VirtqDesc& d) {
  write(table + 16ull * index, d);
}

void RingBuilder::make_available(uint16_t head) {
  const uint16_t idx = avail_idx();
  write<uint16_t>(avail_addr() + 4 + 2ull * (idx & (size_ - 1)), head);
  set_avail_idx(static_cast<uint16_t>(idx + 1));
}

void RingBuilder::set_avail_idx(uint16_t idx) { write<uint16_t>(avail_addr() + 2, idx); }
uint16_t RingBuilder::avail_idx() const { return read<uint16_t>(avail_addr() + 2); }
void RingBuilder::set_avail_flags(uint16_t flags) { write<uint16_t>(avail_addr(), flags); }

void RingBuilder::set_used_event(uint16_t v) {
  require(event_idx_, "used_event needs EVENT_IDX");
  write<uint16_t>(avail_addr() + 4 + 2ull * size_, v);
}

uint16_t RingBuilder::used_idx() const { return read<uint16_t>(used_addr() + 2); }

VirtqUsedElem RingBuilder::used_elem(uint16_t position) const {
  return read<VirtqUsedElem>(used_addr() + 4 + 8ull * (position & (size_ - 1)));
}

uint64_t QueuePair::ring_bytes(const QueuePairOptions& o) {
  return ring_layout(o.size, o.event_idx).total_bytes;
}

uint64_t QueuePair::pool_bytes(const QueuePairOptions& o) {
  return 16ull * o.size * o.indirect_max;
}

QueuePair::QueuePair(model::GuestMemory& mem, const QueuePairOptions& o) : state_(o.size) {
  DriverQueueConfig cfg{};
  cfg.size = o.size;
  cfg.ring = DmaRegion{mem.translate(o.ring_gpa, ring_bytes(o)), o.ring_gpa};
  require(cfg.ring.va != nullptr, "driver ring not mapped");
  cfg.state = state_.data();
  cfg.event_idx = o.event_idx;
  if (o.indirect_max != 0) {
    cfg.indirect_pool = DmaRegion{mem.translate(o.indirect_gpa, pool_bytes(o)), o.indirect_gpa};
    require(cfg.indirect_pool.va != nullptr, "indirect pool not mapped");
    cfg.indirect_max = o.indirect_max;
    cfg.indirect_min_segments = o.indirect_min_segments;
  }
  require(driver.init(cfg) == DriverStatus::kOk, "driver ring init");
  const DeviceQueueConfig dev{o.size, driver.desc_pa(), driver.avail_pa(), driver.used_pa(),
                              o.indirect_max != 0, o.event_idx};
  require(device.configure(mem, dev) == RingError::kNone, "device ring configure");
}

}  // namespace aerov::virtqueue::testing
