// virtio-blk device model (contract section 6, BLK-1..BLK-8) on the
// virtio-pci transport (transport::VirtioDevice) and a DiskBackend.
//
// The guest is hostile. Every request is checked in full before any data
// moves; a bad request is completed with the status the contract names and
// the device goes on serving the next one. The decisions the contract leaves
// to the device model:
//
// * Status descriptor. The device writes a status only into a final
//   descriptor that is device-writable and exactly 1 byte long (BLK-4).
//   If the final descriptor is anything else (readable, zero-length, longer,
//   or missing because the chain has one descriptor), there is nowhere the
//   driver expects a status: the chain completes with used.len = 0 and no
//   guest memory is written. This also holds for a chain error from the ring
//   (VQ-7): IOERR goes into the last descriptor validated before the error
//   if that one is a 1-byte writable descriptor, otherwise used.len = 0.
// * Header. The header must be the first descriptor, device-readable and
//   exactly 16 bytes. A header split across descriptors (which QEMU accepts)
//   or merged with data is rejected with IOERR: BLK-4 describes the request
//   in descriptors, BLK-6 counts data *descriptors* against seg_max, and
//   both are only well defined when the header has a descriptor of its own.
//   Every contract driver (and upstream viostor) sends it that way.
// * Zero-length descriptors (VQ-7, project decision (b)). A zero-length
//   header or status descriptor is a malformed header / missing status as
//   above. A zero-length data descriptor is a data descriptor: it counts
//   toward seg_max and carries no bytes; its address is never used. An IN
//   or OUT whose data totals 0 bytes is IOERR, like one with no data
//   descriptor at all.
// * FLUSH with data descriptors, or IN/OUT checks failing (BLK-6): IOERR,
//   and no data is read or written. Any other type, including GET_ID,
//   DISCARD and WRITE_ZEROES (none is offered): UNSUPP, data untouched.
// * Capacity. A backend larger than 2^64 - 1 bytes is reported as
//   kMaxSectors, so every byte offset fits in 64 bits.
//
// FLUSH (BLK-8) is a barrier for writes: it is handed to the backend only
// after every OUT popped before it has completed, and completes when the
// backend's flush does. So everything the driver had completed, and even
// every OUT it had merely submitted before the FLUSH, is durable when the
// FLUSH completes, in the sense of the backend's durability statement.
// Requests after a FLUSH are not held back by it.
//
// Completion may be out of order: a request completes when its backend
// request does. Status is written before the used entry is published, and
// used.len is always 0 (BLK-7). A doorbell takes at most queue-size chains
// (VQ-8). Completions are collected from the backend at the start and end of
// every queue_notify; with an asynchronous backend the host arranges another
// VirtioPciFunction::process_queue(0) when the backend has finished work, so
// DMA stays behind the transport's Bus Master gating (BAR-4).
//
// reset() drains the backend first, so no transfer into guest memory happens
// after the reset returns. The backend must outlive the device.
#pragma once

#include <cstdint>
#include <vector>

#include "model/backends/disk/disk_backend.hpp"
#include "model/devices/blk/blk_wire.hpp"
#include "transport/device/virtio_device.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::model::devices {

struct BlkDeviceOptions {
  // Largest number of data descriptors in one request (BLK-3 seg_max,
  // BLK-6). Clamped to [1, queue size - 2]: header and status take the
  // other two of the N descriptors a chain may hold (VQ-7).
  uint32_t seg_max = 126;
};

// What the device did, for tests and the machine's statistics.
struct BlkStats {
  uint64_t ok = 0;           // completed with kStatusOk
  uint64_t ioerr = 0;        // completed with kStatusIoErr (any reason)
  uint64_t unsupp = 0;       // completed with kStatusUnsupp
  uint64_t no_status = 0;    // completed with no status place (used.len 0 only)
  uint64_t chain_errors = 0; // chains the ring walker rejected (VQ-7)
  uint64_t malformed = 0;    // IOERR for shape, direction, length or range (BLK-4, BLK-6)
  uint64_t backend_errors = 0;  // IOERR reported by the backend
  uint64_t flushes_deferred = 0;  // FLUSHes that waited for earlier OUTs
};

class BlkDevice final : public transport::VirtioDevice {
 public:
  static constexpr uint16_t kRequestQueue = 0;

  explicit BlkDevice(backends::DiskBackend& disk, const BlkDeviceOptions& options = {});
  ~BlkDevice() override;
  BlkDevice(const BlkDevice&) = delete;
  BlkDevice& operator=(const BlkDevice&) = delete;

  // transport::VirtioDevice
  uint16_t device_type() const override;
  uint64_t device_features() const override;
  uint16_t num_queues() const override;
  uint16_t queue_size(uint16_t q) const override;
  uint64_t config_read(uint32_t offset, unsigned width) override;
  void config_write(uint32_t offset, unsigned width, uint64_t value) override;
  void activate(transport::DeviceTransport& transport) override;
  void queue_notify(uint16_t q, transport::DeviceTransport& transport) override;
  void reset() override;

  uint32_t seg_max() const { return seg_max_; }
  uint64_t capacity() const;
  // Requests taken from the ring and not yet completed.
  uint16_t in_flight() const { return in_flight_; }
  bool active() const { return active_; }
  const BlkStats& stats() const { return stats_; }

 private:
  enum class Stage : uint8_t {
    kFree,
    kSubmitted,         // the backend has it
    kWaitingForWrites,  // a FLUSH held until earlier OUTs complete
  };

  struct Request {
    Stage stage = Stage::kFree;
    uint32_t type = 0;
    uint64_t seq = 0;          // order in which requests were popped
    uint64_t status_addr = 0;
    std::vector<backends::DiskBuffer> buffers;  // guest RAM pieces, reused
    // An IN request's data ranges: the backend writes them through host
    // pointers, so completion reports them to the dirty log.
    std::vector<std::pair<uint64_t, uint64_t>> written;  // (gpa, len)
  };

  // Serves one valid chain; returns true if it completed at once.
  bool start(const virtqueue::DescChain& chain, transport::DeviceTransport& t);
  bool fail_chain(const virtqueue::DescChain& chain, transport::DeviceTransport& t);
  void submit_ready_flushes();
  // Collects backend completions until none is left; true if any published.
  bool reap(transport::DeviceTransport& t);
  void complete(uint16_t head, uint8_t status, transport::DeviceTransport& t);
  void complete_without_status(uint16_t head, transport::DeviceTransport& t);
  void count(uint8_t status);
  uint64_t tag_for(uint16_t head) const { return (epoch_ << 16) | head; }

  backends::DiskBackend& disk_;
  uint32_t seg_max_;
  bool active_ = false;
  model::GuestMemory* memory_ = nullptr;  // set at activate, for the dirty log at reset
  uint64_t epoch_ = 0;  // bumped by reset(): completions from before are stale
  uint64_t next_seq_ = 0;
  uint16_t in_flight_ = 0;
  uint16_t waiting_flushes_ = 0;  // requests in Stage::kWaitingForWrites
  std::vector<Request> requests_;  // indexed by head
  virtqueue::DescChain chain_;     // reused by every pop
  std::vector<backends::DiskCompletion> completions_;
  BlkStats stats_;
};

}  // namespace aerov::model::devices
