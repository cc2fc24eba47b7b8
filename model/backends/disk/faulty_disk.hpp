// A fault-injecting wrapper around another backend, for tests, fuzzing and
// the deterministic machine. Every random choice comes from one sim::Rng
// seeded by the caller (the machine passes a value drawn from a named
// stream), so a seed reproduces a run bit for bit.
//
// What it models:
//   * I/O errors: on chosen sectors (any read or write touching them), on
//     every FLUSH, or with a seeded probability per operation. A failed
//     write changes nothing.
//   * Latency: each request waits a seeded number of poll() calls in
//     [min_delay, max_delay] before it executes and completes; with
//     min_delay < max_delay requests complete out of order. Delay 0 means
//     "at the next poll".
//   * A volatile write cache and power loss. With write_cache on (the
//     default), a completed write sits in a cache that reads see but the
//     inner backend does not; FLUSH writes the cache back to the inner
//     backend and flushes it. crash() drops the cache. A torn write, armed
//     with arm_torn_write(k), makes the next write that executes persist only
//     its first k sectors (straight to the inner backend) and then crashes.
//
// Durability (BLK-8): "durable" means "in the inner backend" (and then only
// as durable as the inner backend's own statement). When a FLUSH completes
// kOk, every write that completed before it was submitted has been written
// back and the inner backend has flushed. After crash(), the inner backend
// holds exactly the flushed data plus any torn prefix.
//
// Requests execute when their delay expires, not at submit: a write reads
// its source buffers then, a read fills its buffers then, like DMA.
//
// The inner backend must be used by this wrapper alone (it is driven with
// run_sync, one request at a time).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "model/backends/disk/disk_backend.hpp"
#include "model/sim/rng.hpp"

namespace aerov::model::backends {

// Which operations a fault applies to (bit mask).
inline constexpr uint8_t kFaultRead = 1;
inline constexpr uint8_t kFaultWrite = 2;
inline constexpr uint8_t kFaultFlush = 4;

struct FaultyDiskOptions {
  uint64_t seed = 0;           // PRNG seed for delays and random errors
  bool write_cache = true;     // see above; false: writes go straight through
  uint32_t min_delay = 0;      // polls a request waits, drawn in [min, max]
  uint32_t max_delay = 0;
  uint32_t error_per_million = 0;  // chance of kIoError per operation in error_ops
  uint8_t error_ops = kFaultRead | kFaultWrite;
};

class FaultyDisk final : public DiskBackend {
 public:
  explicit FaultyDisk(DiskBackend& inner, const FaultyDiskOptions& options = {});

  // ---- faults -------------------------------------------------------------
  // Reads and/or writes touching [first, first + count) fail.
  void fail_sectors(uint64_t first, uint64_t count, uint8_t ops = kFaultRead | kFaultWrite);
  void clear_sector_faults() { bad_ranges_.clear(); }
  void set_error_rate(uint32_t per_million, uint8_t ops);
  void set_fail_flushes(bool fail) { fail_flushes_ = fail; }
  // max_polls is raised to min_polls if lower.
  void set_delay(uint32_t min_polls, uint32_t max_polls);

  // ---- power loss ---------------------------------------------------------
  // The next write to execute persists only its first `persisted_sectors`
  // sectors, completes with kIoError, and the disk crashes.
  void arm_torn_write(uint32_t persisted_sectors);
  // Drops the write cache; requests pending now or submitted until
  // restart() complete with kIoError (the disk is gone).
  void crash();
  // Power is back: the disk serves requests again, holding the durable data.
  void restart() { crashed_ = false; }
  bool crashed() const { return crashed_; }

  // ---- observation --------------------------------------------------------
  uint64_t cached_sectors() const { return cached_sectors_; }
  uint64_t executed(DiskOp op) const { return executed_[static_cast<size_t>(op)]; }
  uint64_t injected_errors() const { return injected_errors_; }

  // ---- DiskBackend --------------------------------------------------------
  uint64_t sector_count() const override { return inner_.sector_count(); }
  void submit(const DiskRequest& request) override;
  size_t poll(std::vector<DiskCompletion>& out) override;
  void drain() override;
  size_t in_flight() const override { return pending_.size() + ready_.size(); }

 private:

  struct Pending {
    uint64_t tag;
    DiskOp op;
    uint64_t sector;
    std::vector<DiskBuffer> buffers;
    uint32_t remaining;  // polls still to wait
    bool doomed;         // submitted to (or caught by) a crashed disk
  };

  struct BadRange {
    uint64_t first, count;
    uint8_t ops;
  };

  bool random_error(uint8_t op_bit);
  bool touches_bad_sector(uint64_t sector, uint64_t count, uint8_t op_bit) const;
  DiskStatus execute(const Pending& p);
  DiskStatus do_read(const Pending& p);
  DiskStatus do_write(const Pending& p, uint64_t sectors_to_keep);
  DiskStatus do_flush();

  DiskBackend& inner_;
  bool write_cache_;
  uint32_t min_delay_, max_delay_;
  uint32_t error_per_million_;
  uint8_t error_ops_;
  sim::Rng rng_;
  std::vector<BadRange> bad_ranges_;
  bool fail_flushes_ = false;
  bool torn_armed_ = false;
  uint32_t torn_sectors_ = 0;
  bool crashed_ = false;
  // The write cache holds sectors in chunks of 64 aligned ones, each with a
  // mask of the sectors it holds, ordered by chunk: a write of a run of
  // sectors looks up one or two chunks instead of a tree node per sector.
  // Chunks a flush or crash empties wait in spare_chunks_ for later writes.
  // (An isolated cached sector costs a whole 32 KiB chunk: this is a disk
  // for tests and simulations.)
  static constexpr uint64_t kChunkSectors = 64;
  struct Chunk {
    uint64_t present = 0;  // bit i: sector (chunk index * 64 + i) is cached
    std::array<uint8_t, kChunkSectors * kSectorSize> bytes;
  };
  Chunk& chunk(uint64_t index);  // made empty if absent
  void drop_cache();

  std::map<uint64_t, std::unique_ptr<Chunk>> cache_;  // by sector / 64
  std::vector<std::unique_ptr<Chunk>> spare_chunks_;
  uint64_t cached_sectors_ = 0;
  std::vector<Pending> pending_;      // submission order
  std::vector<DiskCompletion> ready_;
  uint64_t executed_[3] = {};
  uint64_t injected_errors_ = 0;
};

}  // namespace aerov::model::backends
