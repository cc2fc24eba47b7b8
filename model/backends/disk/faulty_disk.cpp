#include "model/backends/disk/faulty_disk.hpp"

#include <algorithm>

#include "model/memory/copy_bytes.hpp"

namespace aerov::model::backends {



namespace {

// Sequential access to a scatter list, so a many-sector transfer is walked
// once instead of searching the list per sector.
class BufferCursor {
 public:
  explicit BufferCursor(std::span<const DiskBuffer> buffers) : bufs_(buffers) {}

  void skip(uint64_t n) { move(n, nullptr, nullptr); }
  void read(uint8_t* dst, uint64_t n) { move(n, dst, nullptr); }
  void write(const uint8_t* src, uint64_t n) { move(n, nullptr, src); }

 private:
  void move(uint64_t n, uint8_t* dst, const uint8_t* src) {
    while (n > 0 && i_ < bufs_.size()) {
      const DiskBuffer& b = bufs_[i_];
      const size_t step = static_cast<size_t>(std::min<uint64_t>(n, b.len - off_));
      if (dst != nullptr) {
        model::copy_bytes(dst, b.data + off_, step);
        dst += step;
      }
      if (src != nullptr) {
        model::copy_bytes(b.data + off_, src, step);
        src += step;
      }
      off_ += step;
      n -= step;
      if (off_ == b.len) {
        ++i_;
        off_ = 0;
      }
    }
  }

  std::span<const DiskBuffer> bufs_;
  size_t i_ = 0;
  size_t off_ = 0;
};

constexpr uint8_t op_bit(DiskOp op) {
  return op == DiskOp::kRead ? kFaultRead : op == DiskOp::kWrite ? kFaultWrite : kFaultFlush;
}

}  // namespace

FaultyDisk::FaultyDisk(DiskBackend& inner, const FaultyDiskOptions& o)
    : inner_(inner), write_cache_(o.write_cache), min_delay_(o.min_delay),
      max_delay_(std::max(o.min_delay, o.max_delay)), error_per_million_(o.error_per_million),
      error_ops_(o.error_ops), rng_(o.seed) {}

void FaultyDisk::fail_sectors(uint64_t first, uint64_t count, uint8_t ops) {
  bad_ranges_.push_back(BadRange{first, count, ops});
}

void FaultyDisk::set_error_rate(uint32_t per_million, uint8_t ops) {
  error_per_million_ = per_million;
  error_ops_ = ops;
}

void FaultyDisk::set_delay(uint32_t min_polls, uint32_t max_polls) {
  min_delay_ = min_polls;
  max_delay_ = std::max(min_polls, max_polls);
}

void FaultyDisk::arm_torn_write(uint32_t persisted_sectors) {
  torn_armed_ = true;
  torn_sectors_ = persisted_sectors;
}

void FaultyDisk::crash() {
  cache_.clear();
  crashed_ = true;
  torn_armed_ = false;
  for (Pending& p : pending_) p.doomed = true;
}

bool FaultyDisk::random_error(uint8_t bit) {
  if ((error_ops_ & bit) == 0 || error_per_million_ == 0) return false;
  return rng_.chance(error_per_million_, 1000000);
}

bool FaultyDisk::touches_bad_sector(uint64_t sector, uint64_t count, uint8_t bit) const {
  for (const BadRange& r : bad_ranges_) {
    if ((r.ops & bit) == 0 || r.count == 0) continue;
    // [sector, sector + count) meets [r.first, r.first + r.count), without
    // forming either end (both may be near 2^64).
    const bool before = sector < r.first && r.first - sector >= count;
    const bool after = sector >= r.first && sector - r.first >= r.count;
    if (!before && !after) return true;
  }
  return false;
}

void FaultyDisk::submit(const DiskRequest& r) {
  uint32_t delay = min_delay_;
  if (max_delay_ > min_delay_) {
    delay += static_cast<uint32_t>(rng_.below(uint64_t{max_delay_} - min_delay_ + 1));
  }
  pending_.push_back(Pending{r.tag, r.op, r.sector,
                             std::vector<DiskBuffer>(r.buffers.begin(), r.buffers.end()), delay,
                             crashed_});
}

size_t FaultyDisk::poll(std::vector<DiskCompletion>& out) {
  for (size_t i = 0; i < pending_.size();) {
    if (pending_[i].remaining == 0) {
      const DiskStatus s = execute(pending_[i]);
      ready_.push_back(DiskCompletion{pending_[i].tag, s});
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      --pending_[i].remaining;
      ++i;
    }
  }
  const size_t n = ready_.size();
  out.insert(out.end(), ready_.begin(), ready_.end());
  ready_.clear();
  return n;
}

void FaultyDisk::drain() {
  // Finish everything in the order the delays would have: soonest first,
  // submission order among equals.
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const Pending& a, const Pending& b) { return a.remaining < b.remaining; });
  for (size_t i = 0; i < pending_.size(); ++i) {
    ready_.push_back(DiskCompletion{pending_[i].tag, execute(pending_[i])});
  }
  pending_.clear();
}

DiskStatus FaultyDisk::execute(const Pending& p) {
  if (p.doomed || crashed_) return DiskStatus::kIoError;
  ++executed_[static_cast<size_t>(p.op)];
  if (p.op == DiskOp::kFlush) {
    if (!p.buffers.empty()) return DiskStatus::kOutOfRange;
    return do_flush();
  }
  const uint64_t bytes = total_bytes(p.buffers);
  if (!valid_range(sector_count(), p.sector, bytes)) return DiskStatus::kOutOfRange;
  if (touches_bad_sector(p.sector, bytes / kSectorSize, op_bit(p.op)) || random_error(op_bit(p.op))) {
    ++injected_errors_;
    return DiskStatus::kIoError;
  }
  return p.op == DiskOp::kRead ? do_read(p) : do_write(p, bytes / kSectorSize);
}

DiskStatus FaultyDisk::do_read(const Pending& p) {
  const DiskStatus s = run_sync(inner_, DiskRequest{0, DiskOp::kRead, p.sector, p.buffers});
  if (s != DiskStatus::kOk) return s;
  // Cached sectors are newer than the inner backend's copy.
  const uint64_t count = total_bytes(p.buffers) / kSectorSize;
  BufferCursor cursor(p.buffers);
  uint64_t at = p.sector;
  for (auto it = cache_.lower_bound(p.sector); it != cache_.end() && it->first - p.sector < count;
       ++it) {
    cursor.skip((it->first - at) * kSectorSize);
    cursor.write(it->second.data(), kSectorSize);
    at = it->first + 1;
  }
  return DiskStatus::kOk;
}

DiskStatus FaultyDisk::do_write(const Pending& p, uint64_t count) {
  if (torn_armed_) {
    // Power fails mid-write: the medium got a prefix of the sectors.
    const uint64_t keep = std::min<uint64_t>(torn_sectors_, count);
    if (keep > 0) {
      std::vector<uint8_t> prefix(keep * kSectorSize);
      BufferCursor(p.buffers).read(prefix.data(), prefix.size());
      uncache(cache_.lower_bound(p.sector), cache_.lower_bound(p.sector + keep));
      write_sync(inner_, p.sector, prefix);
    }
    crash();
    return DiskStatus::kIoError;
  }
  if (!write_cache_) return run_sync(inner_, DiskRequest{0, DiskOp::kWrite, p.sector, p.buffers});
  BufferCursor cursor(p.buffers);
  auto at = cache_.lower_bound(p.sector);
  for (uint64_t s = 0; s < count; ++s, ++at) {
    at = cache_slot(at, p.sector + s);
    cursor.read(at->second.data(), kSectorSize);
  }
  return DiskStatus::kOk;
}

FaultyDisk::Cache::iterator FaultyDisk::cache_slot(Cache::iterator hint, uint64_t sector) {
  if (hint != cache_.end() && hint->first == sector) return hint;
  if (spare_nodes_.empty()) return cache_.emplace_hint(hint, sector, Sector{});
  Cache::node_type node = std::move(spare_nodes_.back());
  spare_nodes_.pop_back();
  node.key() = sector;
  return cache_.insert(hint, std::move(node));
}

void FaultyDisk::uncache(Cache::iterator first, Cache::iterator last) {
  while (first != last) spare_nodes_.push_back(cache_.extract(first++));
}

DiskStatus FaultyDisk::do_flush() {
  if (fail_flushes_ || random_error(kFaultFlush)) {
    ++injected_errors_;
    return DiskStatus::kIoError;
  }
  // Write back in runs of consecutive sectors, each one write straight from
  // the cache entries; a run that fails stays cached.
  std::vector<DiskBuffer> run;
  auto it = cache_.begin();
  while (it != cache_.end()) {
    const auto first = it;
    run.clear();
    uint64_t next = it->first;
    while (it != cache_.end() && it->first == next) {
      run.push_back(DiskBuffer{it->second.data(), kSectorSize});
      ++it;
      ++next;
    }
    if (run_sync(inner_, DiskRequest{0, DiskOp::kWrite, first->first, run}) != DiskStatus::kOk) {
      return DiskStatus::kIoError;
    }
    uncache(first, it);
  }
  return flush_sync(inner_);
}

}  // namespace aerov::model::backends
