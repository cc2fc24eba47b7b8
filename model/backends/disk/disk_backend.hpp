// Block storage behind a disk device model (virtio-blk today).
//
// A backend serves reads and writes of whole 512-byte sectors and FLUSH.
// Requests are asynchronous by contract: submit() only starts one, and its
// completion is delivered later, exactly once, by poll(). RamDisk and
// FileDisk finish the work inside submit() and merely queue the completion;
// FaultyDisk (and, later, io_uring or network backends) finish whenever they
// like and in any order. A device model that works with this interface
// therefore already copes with out-of-order completion.
//
// Buffers are host memory the caller keeps valid and untouched by anyone
// else until the request's completion has been delivered; for a device model
// they are pieces of guest RAM (GuestMemory never unmaps a region), so a
// backend transfers straight to and from the guest without a bounce copy.
//
// Durability (contract BLK-8): a FLUSH completes kOk only once every write
// whose completion was delivered before the FLUSH was submitted is durable
// in the sense that backend documents in its header. A backend that cannot
// make data durable still keeps that ordering and says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace aerov::model::backends {

inline constexpr uint32_t kSectorSize = 512;

// The largest sector count whose byte size (sectors * 512) fits in 64 bits;
// backends never report more, so byte offsets cannot overflow.
inline constexpr uint64_t kMaxSectors = UINT64_MAX / kSectorSize;

enum class DiskOp : uint8_t { kRead, kWrite, kFlush };

enum class DiskStatus : uint8_t {
  kOk = 0,
  kIoError,     // the medium failed (or a fault was injected)
  kOutOfRange,  // the request itself was invalid: range past the end, length
                // zero or not a multiple of 512, flush carrying buffers
};

std::string_view to_string(DiskOp op);
std::string_view to_string(DiskStatus s);

// One piece of host memory taking part in a transfer.
struct DiskBuffer {
  uint8_t* data;
  size_t len;
};

struct DiskRequest {
  // The caller's token, returned in the completion. Tags of requests in
  // flight at the same time must differ.
  uint64_t tag = 0;
  DiskOp op = DiskOp::kRead;
  uint64_t sector = 0;  // first sector; ignored by kFlush
  // Read: filled in order; write: taken in order. The total must be a
  // non-zero multiple of kSectorSize; individual pieces may have any length.
  // kFlush carries none. The span itself need only live until submit()
  // returns (backends copy it); the memory it points to must live until the
  // completion is delivered.
  std::span<const DiskBuffer> buffers;
};

struct DiskCompletion {
  uint64_t tag;
  DiskStatus status;
};

class DiskBackend {
 public:
  virtual ~DiskBackend() = default;

  // Capacity in 512-byte sectors, at most kMaxSectors.
  virtual uint64_t sector_count() const = 0;

  // Starts a request. Never fails synchronously: even an invalid request is
  // answered through poll(), so every submit has exactly one completion.
  virtual void submit(const DiskRequest& request) = 0;

  // Appends the completions that are ready to `out`, in the order they
  // finished, and returns how many were appended. Each call is one "tick"
  // for backends that model latency.
  virtual size_t poll(std::vector<DiskCompletion>& out) = 0;

  // Finishes every submitted request now (their completions then wait for
  // poll). A device calls this on reset, so no transfer into guest memory
  // happens after the reset has returned.
  virtual void drain() = 0;

  // Submitted requests whose completion poll() has not yet delivered.
  virtual size_t in_flight() const = 0;
};

// Whether [sector, sector + bytes / 512) is a valid transfer on a disk of
// `sectors` sectors: bytes a non-zero multiple of 512, no overflow, inside
// the disk.
bool valid_range(uint64_t sectors, uint64_t sector, uint64_t bytes);

// Total bytes of a buffer list.
uint64_t total_bytes(std::span<const DiskBuffer> buffers);

// Runs one request to completion: submit, drain, poll. For tests and for
// wrappers whose inner backend they use exclusively; any other completion
// polled meanwhile is a caller error and is reported as kIoError.
DiskStatus run_sync(DiskBackend& disk, const DiskRequest& request);

// Convenience wrappers over run_sync for a single contiguous host buffer.
DiskStatus read_sync(DiskBackend& disk, uint64_t sector, std::span<uint8_t> out);
DiskStatus write_sync(DiskBackend& disk, uint64_t sector, std::span<const uint8_t> data);
DiskStatus flush_sync(DiskBackend& disk);

}  // namespace aerov::model::backends
