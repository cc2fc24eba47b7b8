// The portable core of the virtio-blk StorPort miniport (contract sections
// 3-6 and 10: STAT-3, STAT-4, VQ-9, BLK-1..BLK-8, DRV-1, DRV-2).
//
// The StorPort glue turns an SRB into a BlkRequest (op, start sector, sector
// count, the scatter-gather list StorPort built, a cookie) and hands it to
// submit(); the core splits it into virtio-blk chains the device accepts,
// and later calls the completion callback exactly once per accepted
// request. Everything here is freestanding: the only ways out are
// OsServices (PCI, DMA memory at init, log) and the callback.
//
// Memory. The core object itself holds every per-chain shadow (fixed arrays
// sized for the contract's 128-entry requestq), the caller supplies the
// pending array, each request carries its own in-flight state (like an SRB
// extension), and DMA memory (ring, headers + status bytes, indirect pool)
// is allocated once through OsServices at init and reused by every reset.
//
// Concurrency. The caller serialises every call (in the miniport: the
// StartIo/interrupt spin lock); the device runs concurrently. The completion
// callback runs inside interrupt()/poll()/submit() and may call submit().
//
// Interrupts (IRQ-4, DRV-2). INTx + ISR is the default: the glue calls
// interrupt(). When OsServices::msix_messages_granted() is non-zero the core
// programs MSI-X vectors as interrupts.hpp chooses (config on message 0, the
// requestq on message 1, or both on message 0 when one was granted; INTx if
// the device refuses them) and the glue's message routine calls
// message_interrupt(MessageId), which never reads ISR.
//
// Recovery (STAT-4, VQ-9). When the device reports DEVICE_NEEDS_RESET or
// breaks the ring protocol, the core resets it, brings it up again in the
// same memory and reissues every chain that had not completed; a request is
// completed once, when all of its chains have completed after whatever
// resets it took. Too many resets without progress fail the device and
// complete everything outstanding with kAborted.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "drivers/windows7/common/interrupts.hpp"
#include "drivers/windows7/common/os_services.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "virtqueue/driver/driver_queue.hpp"

namespace aerov::drivers::windows7 {

enum class BlkOp : uint8_t { kRead = 0, kWrite, kFlush };

// What the caller learns about a request (mapped to SRB status + sense).
enum class BlkResult : uint8_t {
  kSuccess = 0,
  kIoError,         // device IOERR (or a status byte it never wrote): medium error
  kInvalidRequest,  // device UNSUPP: illegal request
  kAborted,         // the device failed and the core gave up on it
};

// Errors returned synchronously (the callback is then never called).
enum class BlkError : uint8_t {
  kNone = 0,
  kInvalidArgument,   // bad config, or a request that cannot be valid
  kOutOfRange,        // start + count beyond capacity
  kLengthMismatch,    // SG total != sector_count * 512
  kBusy,              // the pending array is full; retry later
  kNotReady,          // init has not succeeded, or the device failed
  kTransport,         // see transport_error()
  kQueueSize,         // requestq size not a power of two <= kMaxQueueSize
  kNoMemory,          // OsServices::alloc_dma failed
  kQueueInit,         // DriverQueue refused the memory
  kDeviceChanged,     // after a reset the device offers less than before
};

const char* to_string(BlkError e);
const char* to_string(BlkResult r);

// One physical scatter-gather element, as StorPort's STOR_SCATTER_GATHER_ELEMENT.
struct BlkSgElement {
  uint64_t addr;
  uint32_t len;
};

struct BlkRequest {
  // ---- filled by the caller; unchanged until completion ------------------
  BlkOp op;
  uint64_t sector;            // first 512-byte sector (ignored by kFlush)
  uint32_t sector_count;      // 0 for kFlush
  const BlkSgElement* sg;     // must stay valid until completion
  uint32_t sg_count;          // 0 for kFlush
  void* cookie;               // the caller's token (the SRB)

  // ---- owned by the core from submit() to completion ---------------------
  struct InFlight {
    uint32_t parts_total;     // chains the request splits into
    uint32_t parts_issued;    // chains placed in the ring so far
    uint32_t parts_done;      // chains completed (or given up)
    uint32_t cursor_index;    // next SG element to issue from
    uint32_t cursor_offset;   // bytes of it already issued
    uint64_t next_sector;
    BlkResult result;         // first failure of any part wins
  } core;
};

// Called once per accepted request.
using BlkCompletionFn = void (*)(void* context, BlkRequest* request, BlkResult result);

struct BlkCoreConfig {
  BlkCompletionFn on_complete;
  void* context;
  // Requests accepted but not (fully) in the ring yet; FIFO order.
  BlkRequest** pending;
  uint16_t pending_capacity;
  // kStrict (the contract, BAR-1/BAR-2/NTF-1) unless the caller drives a
  // device that is not ours (conformance/qtest: QEMU's own virtio-blk-pci).
  transport::ValidationMode validation = transport::ValidationMode::kStrict;
};

struct BlkCounters {
  uint64_t submitted;        // requests accepted
  uint64_t rejected;         // requests refused synchronously
  uint64_t completed;        // callbacks made
  uint64_t split;            // requests that needed more than one chain
  uint64_t parts_issued;     // chains placed in the ring (incl. reissues)
  uint64_t kicks;            // doorbells written
  uint64_t interrupts;       // interrupt() calls that found ISR bits
  uint64_t spurious;         // interrupt() calls with ISR 0 (shared INTx)
  uint64_t config_changes;   // config interrupts without NEEDS_RESET
  uint64_t resets;           // recoveries (STAT-4, VQ-9)
  uint64_t os_resets;        // reset() calls served
  uint64_t reissued;         // chains placed again after a reset
  uint64_t io_errors;        // parts completed IOERR
  uint64_t unsupported;      // parts completed UNSUPP
  uint64_t bad_status;       // parts with a status byte outside 0..2
  uint64_t queued;           // requests that waited in the pending array
  uint16_t pending_high_water;
  uint64_t messages;         // message_interrupt() calls that were ours
  uint64_t vector_fallbacks; // times the device refused the planned vectors
};

class BlkCore {
 public:
  // BLK-1: requestq has 128 entries; every per-chain array is this big.
  static constexpr uint16_t kMaxQueueSize = 128;
  static constexpr uint32_t kSectorSize = 512;
  // A chain's data bytes stay well inside le32 used.len and the device's
  // 2^32 chain limit (VQ-7).
  static constexpr uint32_t kMaxPartBytes = 1u << 30;
  // Resets in a row, without a completed chain in between, before the core
  // decides the device is beyond recovery.
  static constexpr uint32_t kMaxResetsWithoutProgress = 4;
  // Status the core writes before issuing a chain, so a device that
  // completes without writing the status byte is seen (BLK-7).
  static constexpr uint8_t kStatusUnwritten = 0xFF;

  // DRV-1, STAT-3: attach (strict, revision 1), reset, negotiate, read the
  // configuration, allocate DMA memory, program requestq, DRIVER_OK.
  BlkError init(OsServices& os, const BlkCoreConfig& config);

  // Validates and accepts a request; kNone means the callback will run for
  // it exactly once (possibly before submit returns).
  BlkError submit(BlkRequest* request);

  // The INTx service routine (DRV-2): reads ISR (read-to-acknowledge),
  // recovers on DEVICE_NEEDS_RESET, completes finished requests. Returns
  // false when ISR was 0 (or all-ones, a device that is gone) or init has
  // not attached yet: the interrupt was another device's.
  bool interrupt();
  // The MSI-X service routine (IRQ-4): `message` is the table entry the
  // platform numbered (StorPort MessageId). Never reads ISR: a message that
  // covers configuration checks DEVICE_NEEDS_RESET and recovers (STAT-4) or
  // re-reads the configuration; one that covers the requestq completes
  // finished requests. Returns false for a message that is not ours. If the
  // core fell back to INTx it is interrupt().
  bool message_interrupt(uint16_t message);
  // Completes whatever the device finished without looking at ISR (crash
  // dump / polled mode, or a DPC after interrupt()); also recovers when the
  // device set DEVICE_NEEDS_RESET.
  void poll();
  // The reset the OS asks for (StorPort HwStorResetBus): completes what the
  // device finished, resets it, brings it up again in the same memory and
  // reissues every request still outstanding, so none is lost or completed
  // twice. Counted in os_resets, not resets. Ignored unless running.
  void reset();

  bool ready() const { return state_ == State::kRunning; }
  bool failed() const { return state_ == State::kFailed; }
  uint64_t capacity() const { return capacity_; }      // 512-byte sectors
  uint32_t seg_max() const { return seg_max_; }        // as the device reports it
  uint32_t blk_size() const { return blk_size_; }
  uint16_t max_segments_per_chain() const { return max_segs_; }
  uint64_t features() const { return features_; }
  uint16_t queue_size() const { return queue_size_; }
  uint16_t in_flight_chains() const { return in_use_; }
  uint16_t pending_count() const { return pending_count_; }
  transport::TransportError transport_error() const { return transport_error_; }
  const BlkCounters& counters() const { return counters_; }
  InterruptMode interrupt_mode() const { return plan_.mode(); }
  const InterruptPlan& interrupt_plan() const { return plan_; }
  const virtqueue::DriverQueue& queue() const { return queue_; }
  const transport::VirtioPciDriver& transport() const { return driver_; }

 private:
  enum class State : uint8_t { kUninitialized, kRunning, kFailed };

  struct Cursor {
    uint32_t index;
    uint32_t offset;
  };

  // One chain in the ring: which part of which request it carries.
  struct Slot {
    BlkRequest* owner;   // null when free
    uint64_t sector;
    Cursor cursor;       // first data byte in owner->sg
    uint32_t bytes;      // data bytes (multiple of 512; 0 for FLUSH)
    uint32_t type;       // virtio-blk request type
  };

  BlkError bring_up(bool first);
  BlkError read_config(bool first);
  BlkError allocate();
  uint32_t part_bytes(const BlkRequest& r, Cursor at, uint64_t remaining) const;
  uint16_t part_segments(const BlkRequest& r, Cursor at, uint32_t bytes,
                         virtqueue::Segment* out, Cursor* next) const;
  BlkError validate(BlkRequest& r);
  bool enqueue(BlkRequest* r);
  void pump();
  bool issue_next_part(BlkRequest* r);
  virtqueue::DriverStatus add_chain(uint16_t slot);
  void kick();
  void drain();
  void finish_part(uint16_t slot, BlkResult result);
  void finish_request_parts(BlkRequest* r, uint32_t parts, BlkResult result);
  BlkError setup_requestq();
  bool service(const InterruptWork& work, uint64_t* counter);
  void config_change();
  void recover(const char* why);
  void restart();
  void fail_device();

  OsServices* os_ = nullptr;
  BlkCoreConfig config_{};
  State state_ = State::kUninitialized;
  bool attached_ = false;
  transport::VirtioPciDriver driver_{};
  InterruptPlan plan_{};
  uint8_t config_generation_ = 0;
  transport::TransportError transport_error_ = transport::TransportError::kNone;
  virtqueue::DriverQueue queue_{};
  virtqueue::DriverQueueConfig queue_config_{};

  uint64_t features_ = 0;
  uint64_t capacity_ = 0;
  uint32_t seg_max_ = 0;
  uint32_t blk_size_ = 0;
  uint16_t queue_size_ = 0;
  uint16_t max_segs_ = 0;  // data segments per chain the core builds

  DmaRegion ring_{};
  DmaRegion headers_{};    // queue_size_ headers of 16 bytes, then status bytes
  DmaRegion indirect_{};

  virtqueue::DescState desc_state_[kMaxQueueSize] = {};
  Slot slots_[kMaxQueueSize] = {};
  uint16_t free_slots_[kMaxQueueSize] = {};
  uint16_t free_count_ = 0;
  uint16_t in_use_ = 0;
  // Header + data + status of the chain being built.
  virtqueue::Segment chain_[kMaxQueueSize] = {};

  uint16_t pending_head_ = 0;
  uint16_t pending_count_ = 0;
  uint32_t resets_without_progress_ = 0;
  BlkCounters counters_{};
};

}  // namespace aerov::drivers::windows7
