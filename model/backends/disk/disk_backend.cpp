#include "model/backends/disk/disk_backend.hpp"

namespace aerov::model::backends {

std::string_view to_string(DiskOp op) {
  switch (op) {
    case DiskOp::kRead: return "read";
    case DiskOp::kWrite: return "write";
    case DiskOp::kFlush: return "flush";
  }
  return "unknown";
}

std::string_view to_string(DiskStatus s) {
  switch (s) {
    case DiskStatus::kOk: return "ok";
    case DiskStatus::kIoError: return "I/O error";
    case DiskStatus::kOutOfRange: return "invalid range or length";
  }
  return "unknown";
}

bool valid_range(uint64_t sectors, uint64_t sector, uint64_t bytes) {
  if (bytes == 0 || bytes % kSectorSize != 0) return false;
  const uint64_t count = bytes / kSectorSize;
  return sector <= sectors && count <= sectors - sector;  // no sector + count overflow
}

uint64_t total_bytes(std::span<const DiskBuffer> buffers) {
  uint64_t n = 0;
  for (const DiskBuffer& b : buffers) {
    // Saturate: a sum past 2^64 is as invalid as any other wrong length.
    n = b.len > UINT64_MAX - n ? UINT64_MAX : n + b.len;
  }
  return n;
}

DiskStatus run_sync(DiskBackend& disk, const DiskRequest& request) {
  disk.submit(request);
  disk.drain();
  std::vector<DiskCompletion> done;
  DiskStatus status = DiskStatus::kIoError;
  bool seen = false;
  // drain() made every completion ready; a bounded number of polls collects
  // them even from a backend that hands them out a few at a time.
  for (int i = 0; i < 1024 && disk.in_flight() != 0; ++i) disk.poll(done);
  for (const DiskCompletion& c : done) {
    if (c.tag == request.tag && !seen) {
      status = c.status;
      seen = true;
    } else {
      return DiskStatus::kIoError;  // someone else's request was in flight
    }
  }
  return seen ? status : DiskStatus::kIoError;
}

DiskStatus read_sync(DiskBackend& disk, uint64_t sector, std::span<uint8_t> out) {
  const DiskBuffer buf{out.data(), out.size()};
  return run_sync(disk, DiskRequest{0, DiskOp::kRead, sector, {&buf, 1}});
}

DiskStatus write_sync(DiskBackend& disk, uint64_t sector, std::span<const uint8_t> data) {
  // Backends only read the buffers of a write.
  const DiskBuffer buf{const_cast<uint8_t*>(data.data()), data.size()};
  return run_sync(disk, DiskRequest{0, DiskOp::kWrite, sector, {&buf, 1}});
}

DiskStatus flush_sync(DiskBackend& disk) {
  return run_sync(disk, DiskRequest{0, DiskOp::kFlush, 0, {}});
}

}  // namespace aerov::model::backends
