#include "model/devices/blk/blk_device.hpp"

#include <algorithm>
#include <cstring>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::model::devices {

namespace {

using backends::DiskBuffer;
using backends::DiskOp;
using backends::DiskStatus;
namespace vq = virtqueue;

constexpr const contract::DeviceSpec& kSpec = contract::kBlk;

// Host pointers for [addr, addr + len) of guest RAM, one piece per region it
// crosses, so the backend moves data straight to and from the guest. The
// ring walker has already checked the range (VQ-7, DMA-1); this re-checks
// rather than trusts it.
bool append_host_pieces(const GuestMemory& mem, uint64_t addr, uint64_t len,
                        std::vector<DiskBuffer>& out) {
  if (addr + len < addr) return false;
  if (uint8_t* p = mem.translate(addr, len); p != nullptr) {
    out.push_back(DiskBuffer{p, static_cast<size_t>(len)});
    return true;
  }
  while (len > 0) {
    const GuestMemory::Region* hit = nullptr;
    for (const GuestMemory::Region& r : mem.regions()) {
      if (addr >= r.gpa && addr - r.gpa < r.size) {
        hit = &r;
        break;
      }
    }
    if (hit == nullptr) return false;
    const uint64_t n = std::min(len, hit->size - (addr - hit->gpa));
    out.push_back(DiskBuffer{hit->host + (addr - hit->gpa), static_cast<size_t>(n)});
    addr += n;
    len -= n;
  }
  return true;
}

bool is_status_place(const vq::ChainSegment& s) {
  return s.writable && s.len == blk::kStatusBytes;
}

}  // namespace

BlkDevice::BlkDevice(backends::DiskBackend& disk, const BlkDeviceOptions& options)
    : disk_(disk),
      seg_max_(std::clamp<uint32_t>(options.seg_max, 1, kSpec.queues[0].size - 2u)),
      requests_(kSpec.queues[0].size) {}

BlkDevice::~BlkDevice() {
  // In-flight backend requests hold tags for this object: finish them while
  // it still exists.
  disk_.drain();
  for (int i = 0; i < 1024 && disk_.in_flight() != 0; ++i) disk_.poll(completions_);
}

uint16_t BlkDevice::device_type() const { return static_cast<uint16_t>(kSpec.virtio_type); }
uint64_t BlkDevice::device_features() const { return kSpec.features_offered; }  // BLK-2
uint16_t BlkDevice::num_queues() const { return kSpec.num_queues; }            // BLK-1
uint16_t BlkDevice::queue_size(uint16_t q) const {
  return q < kSpec.num_queues ? kSpec.queues[q].size : 0;
}

uint64_t BlkDevice::capacity() const { return std::min(disk_.sector_count(), backends::kMaxSectors); }

uint64_t BlkDevice::config_read(uint32_t offset, unsigned width) {
  // BLK-3. Built per read so a backend that changes size is seen at once.
  uint8_t image[blk::kConfigBytes] = {};
  const uint64_t capacity_le = capacity();
  const uint32_t seg_max = seg_max_;
  const uint32_t blk_size = blk::kBlkSize;
  std::memcpy(&image[blk::kConfigCapacity], &capacity_le, 8);
  std::memcpy(&image[blk::kConfigSegMax], &seg_max, 4);
  std::memcpy(&image[blk::kConfigBlkSize], &blk_size, 4);
  // size_max (BLK-3: 0) and geometry (0) stay zero; so does every byte after.
  uint64_t v = 0;
  for (unsigned i = 0; i < width && i < 8; ++i) {
    const uint64_t at = uint64_t{offset} + i;
    if (at < sizeof image) v |= uint64_t{image[at]} << (8 * i);
  }
  return v;
}

void BlkDevice::config_write(uint32_t, unsigned, uint64_t) {
  // Every field is read-only (no CONFIG_WCE, no writeback toggle).
}

void BlkDevice::activate(transport::DeviceTransport& t) {
  active_ = true;
  memory_ = &t.memory();
}

void BlkDevice::reset() {
  // STAT-2: wait for every transfer the backend still owes, so nothing is
  // written into guest memory the driver may already be reusing, then
  // forget it all.
  disk_.drain();
  for (int i = 0; i < 1024 && disk_.in_flight() != 0; ++i) disk_.poll(completions_);
  completions_.clear();
  for (Request& r : requests_) {
    // Reads the backend finished during the drain did write guest memory.
    if (memory_ != nullptr) {
      for (const auto& [gpa, len] : r.written) memory_->note_write(gpa, len);
    }
    r.written.clear();
    r.stage = Stage::kFree;
  }
  in_flight_ = 0;
  waiting_flushes_ = 0;
  ++epoch_;
  active_ = false;
}

void BlkDevice::queue_notify(uint16_t q, transport::DeviceTransport& t) {
  if (q != kRequestQueue) return;
  bool published = reap(t);
  vq::DeviceQueue& ring = t.queue(q);
  // VQ-8: at most N chains per doorbell.
  for (uint16_t n = 0; n < ring.size(); ++n) {
    const vq::PopStatus s = ring.pop(chain_);
    if (s == vq::PopStatus::kEmpty || s == vq::PopStatus::kRingError) break;  // transport: STAT-4
    if (s == vq::PopStatus::kChainError) {
      published |= fail_chain(chain_, t);
    } else {
      published |= start(chain_, t);
    }
  }
  published |= reap(t);
  if (published) t.used_buffers_published(q);
}

bool BlkDevice::fail_chain(const vq::DescChain& chain, transport::DeviceTransport& t) {
  // VQ-7: complete it, with IOERR if the part we could validate ends in a
  // status place, else with used.len 0 alone.
  ++stats_.chain_errors;
  if (!chain.segments.empty() && is_status_place(chain.segments.back())) {
    requests_[chain.head].status_addr = chain.segments.back().addr;
    complete(chain.head, blk::kStatusIoErr, t);
  } else {
    complete_without_status(chain.head, t);
  }
  return true;
}

bool BlkDevice::start(const vq::DescChain& chain, transport::DeviceTransport& t) {
  const std::vector<vq::ChainSegment>& segs = chain.segments;
  const uint16_t head = chain.head;
  if (segs.empty() || !is_status_place(segs.back())) {
    complete_without_status(head, t);
    return true;
  }
  Request& r = requests_[head];
  r.status_addr = segs.back().addr;
  const auto malformed = [&] {
    ++stats_.malformed;
    complete(head, blk::kStatusIoErr, t);
    return true;
  };
  // BLK-4: the header is its own 16-byte device-readable descriptor.
  if (segs.size() < 2 || segs[0].writable || segs[0].len != blk::kHeaderBytes) return malformed();
  blk::RequestHeader header{};
  if (t.memory().read(segs[0].addr, &header, sizeof header) != MemError::kOk) return malformed();
  const size_t data_count = segs.size() - 2;

  switch (header.type) {
    case blk::kTypeIn:
    case blk::kTypeOut: {
      // BLK-6: count, direction, length and range, all before any data moves.
      const bool device_writes = header.type == blk::kTypeIn;
      if (data_count == 0 || data_count > seg_max_) return malformed();
      uint64_t bytes = 0;  // <= 2^32: the ring walker bounds a chain (VQ-7)
      for (size_t i = 1; i + 1 < segs.size(); ++i) {
        if (segs[i].writable != device_writes) return malformed();
        bytes += segs[i].len;
      }
      if (!backends::valid_range(capacity(), header.sector, bytes)) return malformed();
      r.buffers.clear();
      r.written.clear();
      for (size_t i = 1; i + 1 < segs.size(); ++i) {
        if (segs[i].len == 0) continue;  // never dereferenced (VQ-7 (b))
        if (!append_host_pieces(t.memory(), segs[i].addr, segs[i].len, r.buffers)) {
          return malformed();
        }
        if (device_writes) {
          r.written.emplace_back(segs[i].addr, segs[i].len);
        } else {
          t.memory().note_read(segs[i].addr, segs[i].len);  // the backend reads it in submit()
        }
      }
      r.type = header.type;
      r.seq = next_seq_++;
      r.stage = Stage::kSubmitted;
      ++in_flight_;
      disk_.submit(backends::DiskRequest{tag_for(head), device_writes ? DiskOp::kRead : DiskOp::kWrite,
                                         header.sector, r.buffers});
      return false;
    }
    case blk::kTypeFlush: {
      if (data_count != 0) return malformed();  // BLK-5: FLUSH has no data
      r.type = header.type;
      r.seq = next_seq_++;
      r.buffers.clear();
      r.written.clear();
      r.stage = Stage::kWaitingForWrites;
      ++in_flight_;
      ++waiting_flushes_;
      submit_ready_flushes();
      if (r.stage == Stage::kWaitingForWrites) ++stats_.flushes_deferred;
      return false;
    }
    default:
      complete(head, blk::kStatusUnsupp, t);  // BLK-5
      return true;
  }
}

void BlkDevice::submit_ready_flushes() {
  if (waiting_flushes_ == 0) return;
  // BLK-8 barrier: a FLUSH goes to the backend once no OUT popped before it
  // is still with the backend. At most N requests: a quadratic scan is fine.
  for (size_t f = 0; f < requests_.size(); ++f) {
    Request& flush = requests_[f];
    if (flush.stage != Stage::kWaitingForWrites) continue;
    const bool earlier_write_pending =
        std::any_of(requests_.begin(), requests_.end(), [&](const Request& r) {
          return r.stage == Stage::kSubmitted && r.type == blk::kTypeOut && r.seq < flush.seq;
        });
    if (earlier_write_pending) continue;
    flush.stage = Stage::kSubmitted;
    --waiting_flushes_;
    disk_.submit(backends::DiskRequest{tag_for(static_cast<uint16_t>(f)), DiskOp::kFlush, 0, {}});
  }
}

bool BlkDevice::reap(transport::DeviceTransport& t) {
  bool published = false;
  // Each round's completions may release a held FLUSH, whose completion a
  // synchronous backend has ready for the next round; stop when a round
  // brings nothing. Bounded: every completion retires one of <= N requests.
  for (;;) {
    completions_.clear();
    if (disk_.poll(completions_) == 0) break;
    for (const backends::DiskCompletion& c : completions_) {
      const uint64_t head = c.tag & 0xFFFF;
      if ((c.tag >> 16) != epoch_ || head >= requests_.size() ||
          requests_[head].stage != Stage::kSubmitted) {
        continue;  // not ours, or from before a reset
      }
      if (c.status != DiskStatus::kOk) ++stats_.backend_errors;
      complete(static_cast<uint16_t>(head),
               c.status == DiskStatus::kOk ? blk::kStatusOk : blk::kStatusIoErr, t);
      published = true;
    }
    submit_ready_flushes();
  }
  return published;
}

void BlkDevice::complete(uint16_t head, uint8_t status, transport::DeviceTransport& t) {
  Request& r = requests_[head];
  // BLK-7: the status byte first; push() then publishes the used entry with
  // release ordering, and used.len is 0.
  for (const auto& [gpa, len] : r.written) t.memory().note_write(gpa, len);
  r.written.clear();
  t.memory().write(r.status_addr, &status, 1);
  t.queue(kRequestQueue).push(head, 0);
  if (r.stage != Stage::kFree) {
    r.stage = Stage::kFree;
    --in_flight_;
  }
  count(status);
}

void BlkDevice::complete_without_status(uint16_t head, transport::DeviceTransport& t) {
  t.queue(kRequestQueue).push(head, 0);
  ++stats_.no_status;
}

void BlkDevice::count(uint8_t status) {
  if (status == blk::kStatusOk) {
    ++stats_.ok;
  } else if (status == blk::kStatusIoErr) {
    ++stats_.ioerr;
  } else {
    ++stats_.unsupp;
  }
}

}  // namespace aerov::model::devices
