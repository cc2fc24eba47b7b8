#include "model/backends/disk/faulty_disk.hpp"

#include <algorithm>
#include <bit>

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
  drop_cache();
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
  const uint64_t end = p.sector + total_bytes(p.buffers) / kSectorSize;
  BufferCursor cursor(p.buffers);
  uint64_t at = p.sector;  // where the cursor stands
  for (auto it = cache_.lower_bound(p.sector / kChunkSectors);
       it != cache_.end() && it->first * kChunkSectors < end; ++it) {
    const uint64_t base = it->first * kChunkSectors;
    // Runs of cached sectors, cut to the request.
    for (uint64_t m = it->second->present; m != 0;) {
      const int skip = std::countr_zero(m);
      const int len = std::countr_one(m >> skip);
      m = len + skip == 64 ? 0 : m & ~(((uint64_t{1} << len) - 1) << skip);
      const uint64_t first = std::max(base + static_cast<uint64_t>(skip), p.sector);
      const uint64_t last = std::min(base + static_cast<uint64_t>(skip + len), end);
      if (first >= last) continue;
      cursor.skip((first - at) * kSectorSize);
      cursor.write(it->second->bytes.data() + (first - base) * kSectorSize, (last - first) * kSectorSize);
      at = last;
    }
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
      write_sync(inner_, p.sector, prefix);
    }
    crash();  // drops the cache, older copies of the prefix included
    return DiskStatus::kIoError;
  }
  if (!write_cache_) return run_sync(inner_, DiskRequest{0, DiskOp::kWrite, p.sector, p.buffers});
  // A run of sectors inside one chunk is one mask update and one copy.
  BufferCursor cursor(p.buffers);
  for (uint64_t sector = p.sector, end = p.sector + count; sector < end;) {
    const uint64_t within = sector % kChunkSectors;
    const uint64_t n = std::min(end - sector, kChunkSectors - within);
    Chunk& c = chunk(sector / kChunkSectors);
    const uint64_t bits = (n == kChunkSectors ? ~uint64_t{0} : (uint64_t{1} << n) - 1) << within;
    cached_sectors_ += static_cast<uint64_t>(std::popcount(bits & ~c.present));
    c.present |= bits;
    cursor.read(c.bytes.data() + within * kSectorSize, n * kSectorSize);
    sector += n;
  }
  return DiskStatus::kOk;
}

FaultyDisk::Chunk& FaultyDisk::chunk(uint64_t index) {
  auto [it, made] = cache_.try_emplace(index);
  if (made) {
    if (spare_chunks_.empty()) {
      it->second = std::make_unique_for_overwrite<Chunk>();  // present says what is valid
    } else {
      it->second = std::move(spare_chunks_.back());
      spare_chunks_.pop_back();
    }
    it->second->present = 0;
  }
  return *it->second;
}

void FaultyDisk::drop_cache() {
  for (auto& [index, c] : cache_) spare_chunks_.push_back(std::move(c));
  cache_.clear();
  cached_sectors_ = 0;
}

DiskStatus FaultyDisk::do_flush() {
  if (fail_flushes_ || random_error(kFaultFlush)) {
    ++injected_errors_;
    return DiskStatus::kIoError;
  }
  // Write back in runs of consecutive sectors (a run ends at a chunk's
  // edge too), in sector order; a run that fails stays cached.
  for (auto it = cache_.begin(); it != cache_.end(); it = cache_.erase(it)) {
    Chunk& c = *it->second;
    while (c.present != 0) {
      const int first = std::countr_zero(c.present);
      const int n = std::countr_one(c.present >> first);
      const std::span<const uint8_t> run(c.bytes.data() + first * kSectorSize, n * kSectorSize);
      if (write_sync(inner_, it->first * kChunkSectors + first, run) != DiskStatus::kOk) {
        return DiskStatus::kIoError;
      }
      c.present &= n == 64 ? 0 : ~(((uint64_t{1} << n) - 1) << first);
      cached_sectors_ -= static_cast<uint64_t>(n);
    }
    spare_chunks_.push_back(std::move(it->second));
  }
  return flush_sync(inner_);
}

}  // namespace aerov::model::backends
