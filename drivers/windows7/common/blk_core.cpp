#include "drivers/windows7/common/blk_core.hpp"

#include "aerov/contract/windows_device_contract.hpp"
#include "model/devices/blk/blk_wire.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::drivers::windows7 {

namespace vq = virtqueue;
using transport::TransportError;

namespace {

// virtio-blk wire format (BLK-3..BLK-5): one definition for both ends.
using namespace model::devices::blk;
constexpr uint32_t kSectorShift = 9;

constexpr uint64_t kWantedFeatures =
    contract::feature_mask(contract::kFeatureVersion1) |
    contract::feature_mask(contract::kFeatureRingIndirectDesc) |
    contract::feature_mask(contract::kFeatureBlkSegMax) |
    contract::feature_mask(contract::kFeatureBlkBlkSize) |
    contract::feature_mask(contract::kFeatureBlkFlush);
constexpr uint64_t kRequiredFeatures = contract::feature_mask(contract::kFeatureVersion1);

bool has(uint64_t features, uint32_t bit) { return (features & contract::feature_mask(bit)) != 0; }

uint64_t load_le(const uint8_t* p, uint32_t bytes) {
  uint64_t v = 0;
  for (uint32_t i = bytes; i > 0; --i) v = (v << 8) | p[i - 1];
  return v;
}

void store_le(uint8_t* p, uint64_t v, uint32_t bytes) {
  for (uint32_t i = 0; i < bytes; ++i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace

const char* to_string(BlkError e) {
  switch (e) {
    case BlkError::kNone: return "none";
    case BlkError::kInvalidArgument: return "invalid argument";
    case BlkError::kOutOfRange: return "range beyond capacity";
    case BlkError::kLengthMismatch: return "scatter-gather length != sectors * 512";
    case BlkError::kBusy: return "busy";
    case BlkError::kNotReady: return "not ready";
    case BlkError::kTransport: return "transport error";
    case BlkError::kQueueSize: return "unsupported queue size";
    case BlkError::kNoMemory: return "no DMA memory";
    case BlkError::kQueueInit: return "queue init failed";
    case BlkError::kDeviceChanged: return "device changed across reset";
  }
  return "unknown";
}

const char* to_string(BlkResult r) {
  switch (r) {
    case BlkResult::kSuccess: return "success";
    case BlkResult::kIoError: return "I/O error";
    case BlkResult::kInvalidRequest: return "invalid request";
    case BlkResult::kAborted: return "aborted";
  }
  return "unknown";
}

// ---- bring-up ---------------------------------------------------------------

BlkError BlkCore::init(OsServices& os, const BlkCoreConfig& config) {
  if (state_ != State::kUninitialized || config.on_complete == nullptr ||
      config.pending == nullptr || config.pending_capacity == 0) {
    return BlkError::kInvalidArgument;
  }
  os_ = &os;
  config_ = config;
  transport_error_ = attach_device(driver_, os, config.validation, &plan_);  // DRV-1, DRV-2
  if (transport_error_ != TransportError::kNone) {
    log_event(os, LogLevel::kError, "blk: attach failed", static_cast<uint64_t>(transport_error_));
    return BlkError::kTransport;
  }
  attached_ = true;
  const BlkError e = bring_up(true);
  if (e != BlkError::kNone) {
    log_event(os, LogLevel::kError, "blk: init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    driver_.fail();
    return e;
  }
  state_ = State::kRunning;
  log_event(os, LogLevel::kInfo, "blk: ready (capacity, seg_max, features)", capacity_, seg_max_,
            features_);
  log_event(os, LogLevel::kInfo, "blk: interrupts (mode, messages granted)",
            static_cast<uint64_t>(plan_.mode()), plan_.granted());
  return BlkError::kNone;
}

BlkError BlkCore::bring_up(bool first) {
  // STAT-3: RESET -> ACK -> DRIVER -> features -> FEATURES_OK -> queues -> DRIVER_OK.
  uint64_t accepted = 0;
  transport_error_ = reset_and_negotiate(driver_, kWantedFeatures, kRequiredFeatures, &accepted);
  uint16_t size = 0;
  if (transport_error_ == TransportError::kNone) transport_error_ = driver_.queue_size(0, &size);
  if (transport_error_ != TransportError::kNone) return BlkError::kTransport;
  if (first) {
    if (size < 4 || size > kMaxQueueSize || (size & (size - 1)) != 0) return BlkError::kQueueSize;
    features_ = accepted;
    queue_size_ = size;
  } else if (accepted != features_ || size != queue_size_) {
    // The memory and chain shapes were sized for the first device.
    return BlkError::kDeviceChanged;
  }
  const BlkError e = read_config(first);
  if (e != BlkError::kNone) return e;
  if (first) {
    const BlkError a = allocate();
    if (a != BlkError::kNone) return a;
    free_count_ = 0;
    for (uint16_t s = queue_size_; s > 0; --s) {
      slots_[s - 1] = Slot{};
      free_slots_[free_count_++] = static_cast<uint16_t>(s - 1);
    }
    in_use_ = 0;
  }
  // The queue forgets every chain; the slots remember them for reissue.
  if (queue_.init(queue_config_) != vq::DriverStatus::kOk) return BlkError::kQueueInit;
  const BlkError q = setup_requestq();
  if (q != BlkError::kNone) return q;
  driver_.driver_ok();
  config_generation_ = driver_.config_generation();
  return BlkError::kNone;
}

// DRV-2, IRQ-4: vectors as interrupts.hpp chooses, verified by read-back;
// a refusal steps the plan down (per-queue -> shared -> INTx) and stays
// down across resets.
BlkError BlkCore::setup_requestq() {
  const QueueRings rings{queue_.desc_pa(), queue_.avail_pa(), queue_.used_pa()};
  transport_error_ = setup_queues(driver_, &plan_, &rings, 1, &counters_.vector_fallbacks, *os_,
                                "blk: device refused MSI-X vectors; now mode");
  return transport_error_ == TransportError::kNone ? BlkError::kNone : BlkError::kTransport;
}

BlkError BlkCore::read_config(bool first) {
  uint8_t cfg[kConfigBytes] = {};
  transport_error_ = driver_.read_device_config(0, cfg, kConfigBytes);
  if (transport_error_ != TransportError::kNone) return BlkError::kTransport;
  capacity_ = load_le(cfg + kConfigCapacity, 8);
  seg_max_ = static_cast<uint32_t>(load_le(cfg + kConfigSegMax, 4));
  blk_size_ = has(features_, contract::kFeatureBlkBlkSize)
                  ? static_cast<uint32_t>(load_le(cfg + kConfigBlkSize, 4))
                  : kSectorSize;
  // Data segments per chain: the device's seg_max when offered, and never
  // more than a chain of N descriptors (header + data + status) can carry.
  const uint32_t ring_limit = static_cast<uint32_t>(queue_size_ - 2);
  uint32_t limit = has(features_, contract::kFeatureBlkSegMax) ? seg_max_ : ring_limit;
  if (limit == 0) limit = 1;  // a hostile seg_max of 0 still leaves one segment
  if (limit > ring_limit) limit = ring_limit;
  if (first) {
    max_segs_ = static_cast<uint16_t>(limit);
  } else if (limit < max_segs_) {
    // Chains in flight were built for the old limit and must be reissued as is.
    return BlkError::kDeviceChanged;
  }
  return BlkError::kNone;
}

BlkError BlkCore::allocate() {
  const uint32_t ring_bytes = static_cast<uint32_t>(vq::ring_layout(queue_size_, false).total_bytes);
  const uint32_t header_bytes = static_cast<uint32_t>(queue_size_) * (kHeaderBytes + 1);
  const bool indirect = has(features_, contract::kFeatureRingIndirectDesc);
  const uint16_t table = static_cast<uint16_t>(max_segs_ + 2);
  const uint32_t indirect_bytes = static_cast<uint32_t>(queue_size_) * table * 16u;
  if (!os_->alloc_dma(ring_bytes, 4096, &ring_) ||
      !os_->alloc_dma(header_bytes, 16, &headers_) ||
      (indirect && !os_->alloc_dma(indirect_bytes, 16, &indirect_))) {
    log_event(*os_, LogLevel::kError, "blk: DMA allocation failed");
    return BlkError::kNoMemory;
  }
  queue_config_ = vq::DriverQueueConfig{};
  queue_config_.size = queue_size_;
  queue_config_.ring = ring_;
  queue_config_.state = desc_state_;
  queue_config_.event_idx = false;
  if (indirect) {
    // Every chain (FLUSH included) then takes one ring descriptor, so the
    // ring holds as many chains as there are slots.
    queue_config_.indirect_pool = indirect_;
    queue_config_.indirect_max = table;
    queue_config_.indirect_min_segments = 2;
  }
  return BlkError::kNone;
}

// ---- splitting ----------------------------------------------------------------

// Bytes of the chain starting at `at`: as many SG bytes as max_segs_ pieces
// hold (at most `remaining` and kMaxPartBytes), cut down to whole sectors.
// 0 when even one sector does not fit in max_segs_ pieces.
uint32_t BlkCore::part_bytes(const BlkRequest& r, Cursor at, uint64_t remaining) const {
  const uint64_t limit = remaining < kMaxPartBytes ? remaining : kMaxPartBytes;
  uint64_t total = 0;
  uint32_t index = at.index;
  uint32_t offset = at.offset;
  for (uint16_t n = 0; n < max_segs_ && index < r.sg_count && total < limit; ++n) {
    const uint64_t avail = r.sg[index].len - offset;
    total += avail < limit - total ? avail : limit - total;
    ++index;
    offset = 0;
  }
  return static_cast<uint32_t>(total & ~uint64_t{kSectorSize - 1});
}

// The data segments carrying `bytes` from `at`; writes them to out (when
// not null) and where the next chain starts to *next.
uint16_t BlkCore::part_segments(const BlkRequest& r, Cursor at, uint32_t bytes, vq::Segment* out,
                                Cursor* next) const {
  uint16_t n = 0;
  uint32_t index = at.index;
  uint32_t offset = at.offset;
  uint32_t left = bytes;
  const bool writable = r.op == BlkOp::kRead;
  while (left != 0 && index < r.sg_count && n < max_segs_) {
    const uint32_t avail = r.sg[index].len - offset;
    const uint32_t take = avail < left ? avail : left;
    if (out != nullptr) out[n] = vq::Segment{r.sg[index].addr + offset, take, writable};
    ++n;
    left -= take;
    offset += take;
    if (offset == r.sg[index].len) {
      ++index;
      offset = 0;
    }
  }
  *next = Cursor{index, offset};
  return n;
}

BlkError BlkCore::validate(BlkRequest& r) {
  uint32_t parts = 1;
  if (r.op == BlkOp::kFlush) {
    if (r.sector_count != 0 || r.sg_count != 0) return BlkError::kInvalidArgument;
  } else if (r.op == BlkOp::kRead || r.op == BlkOp::kWrite) {
    if (r.sector_count == 0 || r.sg == nullptr || r.sg_count == 0) {
      return BlkError::kInvalidArgument;
    }
    if (r.sector_count > capacity_ || r.sector > capacity_ - r.sector_count) {
      return BlkError::kOutOfRange;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < r.sg_count; ++i) {
      if (r.sg[i].len == 0) return BlkError::kInvalidArgument;
      total += r.sg[i].len;
    }
    const uint64_t expected = uint64_t{r.sector_count} << kSectorShift;
    if (total != expected) return BlkError::kLengthMismatch;
    // Dry run of the split: every chain must carry at least one sector.
    parts = 0;
    Cursor at{0, 0};
    uint64_t remaining = expected;
    for (uint32_t guard = 0; remaining != 0 && guard < r.sector_count; ++guard) {
      const uint32_t bytes = part_bytes(r, at, remaining);
      if (bytes == 0) return BlkError::kInvalidArgument;
      part_segments(r, at, bytes, nullptr, &at);
      remaining -= bytes;
      ++parts;
    }
    if (remaining != 0) return BlkError::kInvalidArgument;
  } else {
    return BlkError::kInvalidArgument;
  }
  r.core = BlkRequest::InFlight{};
  r.core.parts_total = parts;
  r.core.next_sector = r.sector;
  r.core.result = BlkResult::kSuccess;
  return BlkError::kNone;
}

// ---- submission ---------------------------------------------------------------

BlkError BlkCore::submit(BlkRequest* request) {
  BlkError e = BlkError::kNotReady;
  if (request == nullptr) {
    e = BlkError::kInvalidArgument;
  } else if (state_ == State::kRunning) {
    e = validate(*request);
    if (e == BlkError::kNone && pending_count_ == config_.pending_capacity) e = BlkError::kBusy;
  }
  if (e != BlkError::kNone) {
    ++counters_.rejected;
    return e;
  }
  ++counters_.submitted;
  if (request->core.parts_total > 1) ++counters_.split;
  if (request->op == BlkOp::kFlush && !has(features_, contract::kFeatureBlkFlush)) {
    // Without FLUSH the device has no volatile cache to write back.
    finish_request_parts(request, 1, BlkResult::kSuccess);
    return BlkError::kNone;
  }
  enqueue(request);
  pump();
  if (pending_count_ != 0 && config_.pending[(pending_head_ + pending_count_ - 1) %
                                             config_.pending_capacity] == request) {
    ++counters_.queued;
  }
  return BlkError::kNone;
}

bool BlkCore::enqueue(BlkRequest* r) {
  if (pending_count_ == config_.pending_capacity) return false;
  config_.pending[(pending_head_ + pending_count_) % config_.pending_capacity] = r;
  ++pending_count_;
  if (pending_count_ > counters_.pending_high_water) counters_.pending_high_water = pending_count_;
  return true;
}

// Moves pending work into the ring in FIFO order while slots and
// descriptors last, then publishes and kicks once.
void BlkCore::pump() {
  bool added = false;
  for (uint32_t guard = 0; guard < kMaxQueueSize && pending_count_ != 0 && free_count_ != 0;
       ++guard) {
    BlkRequest* r = config_.pending[pending_head_];
    if (!issue_next_part(r)) break;
    added = true;
    if (r->core.parts_issued == r->core.parts_total) {
      pending_head_ = static_cast<uint16_t>((pending_head_ + 1) % config_.pending_capacity);
      --pending_count_;
    }
  }
  if (added) kick();
}

bool BlkCore::issue_next_part(BlkRequest* r) {
  const uint16_t slot = free_slots_[free_count_ - 1];
  Slot& s = slots_[slot];
  s.owner = r;
  if (r->op == BlkOp::kFlush) {
    s.type = kTypeFlush;
    s.sector = 0;
    s.bytes = 0;
    s.cursor = Cursor{0, 0};
  } else {
    const uint64_t done = (r->core.next_sector - r->sector) << kSectorShift;
    const uint64_t remaining = (uint64_t{r->sector_count} << kSectorShift) - done;
    s.type = r->op == BlkOp::kRead ? kTypeIn : kTypeOut;
    s.sector = r->core.next_sector;
    s.cursor = Cursor{r->core.cursor_index, r->core.cursor_offset};
    s.bytes = part_bytes(*r, s.cursor, remaining);  // non-zero: validate() checked
  }
  if (add_chain(slot) != vq::DriverStatus::kOk) {
    s.owner = nullptr;
    return false;
  }
  --free_count_;
  ++in_use_;
  ++counters_.parts_issued;
  if (r->op != BlkOp::kFlush) {
    Cursor next{};
    part_segments(*r, s.cursor, s.bytes, nullptr, &next);
    r->core.cursor_index = next.index;
    r->core.cursor_offset = next.offset;
    r->core.next_sector += s.bytes >> kSectorShift;
  }
  ++r->core.parts_issued;
  return true;
}

// BLK-4: header (readable), data, status (writable), as one chain.
vq::DriverStatus BlkCore::add_chain(uint16_t slot) {
  const Slot& s = slots_[slot];
  uint8_t* header = static_cast<uint8_t*>(headers_.va) + kHeaderBytes * slot;
  store_le(header, s.type, 4);
  store_le(header + 4, 0, 4);  // ioprio
  store_le(header + 8, s.sector, 8);
  const uint32_t status_offset = kHeaderBytes * queue_size_ + slot;
  *(static_cast<volatile uint8_t*>(headers_.va) + status_offset) = kStatusUnwritten;

  chain_[0] = vq::Segment{headers_.pa + kHeaderBytes * slot, kHeaderBytes, false};
  uint16_t n = 1;
  if (s.bytes != 0) {
    Cursor next{};
    n = static_cast<uint16_t>(n + part_segments(*s.owner, s.cursor, s.bytes, chain_ + 1, &next));
  }
  chain_[n] = vq::Segment{headers_.pa + status_offset, 1, true};
  ++n;
  return queue_.add(chain_, n, &slots_[slot]);
}

void BlkCore::kick() {
  queue_.publish();
  if (queue_.kick_needed()) {
    driver_.notify(0);
    ++counters_.kicks;
  }
}

// ---- completion -----------------------------------------------------------------

bool BlkCore::interrupt() {
  // A shared line can fire before init attached the device.
  if (!attached_) return false;
  return service(decode_intx(driver_, 1), &counters_.interrupts);
}

bool BlkCore::message_interrupt(uint16_t message) {
  if (!attached_) return false;
  if (!plan_.uses_msix()) return interrupt();  // fell back to INTx: ISR says why
  return service(decode_message(driver_, plan_, message, 1, &config_generation_),
                 &counters_.messages);
}

bool BlkCore::service(const InterruptWork& work, uint64_t* counter) {
  if (!work.ours) {
    ++counters_.spurious;
    return false;
  }
  ++*counter;
  if (state_ != State::kRunning) return true;
  if (work.needs_reset) {
    recover("blk: device needs reset");
    return true;
  }
  if (work.config) config_change();
  if (work.queues != 0) drain();
  return true;
}

// CFG-4/IRQ-3: a runtime configuration change (e.g. a resized disk).
void BlkCore::config_change() {
  ++counters_.config_changes;
  config_generation_ = driver_.config_generation();
  uint8_t cfg[8] = {};
  if (driver_.read_device_config(0, cfg, 8) == TransportError::kNone) {
    capacity_ = load_le(cfg + kConfigCapacity, 8);
  }
}

void BlkCore::poll() {
  if (state_ != State::kRunning) return;
  if (driver_.needs_reset()) {
    recover("blk: device needs reset");
    return;
  }
  drain();
}

void BlkCore::drain() {
  // Bounded: a device cannot keep the caller here forever by completing
  // chains that completion callbacks keep submitting.
  const uint32_t budget = 4u * queue_size_;
  for (uint32_t i = 0; i < budget; ++i) {
    vq::UsedBuffer used{};
    const vq::DriverStatus st = queue_.get_used(&used);
    if (st == vq::DriverStatus::kEmpty) break;
    if (st != vq::DriverStatus::kOk) {
      recover("blk: ring protocol violation (VQ-9)");
      return;
    }
    const uint16_t slot = static_cast<uint16_t>(static_cast<Slot*>(used.cookie) - slots_);
    const uint8_t status =
        *(static_cast<volatile uint8_t*>(headers_.va) + kHeaderBytes * queue_size_ + slot);
    BlkResult result = BlkResult::kSuccess;
    if (status == kStatusIoErr) {
      ++counters_.io_errors;
      result = BlkResult::kIoError;
    } else if (status == kStatusUnsupp) {
      ++counters_.unsupported;
      result = BlkResult::kInvalidRequest;
    } else if (status != kStatusOk) {
      ++counters_.bad_status;
      result = BlkResult::kIoError;
    }
    resets_without_progress_ = 0;
    finish_part(slot, result);
  }
  pump();
}

void BlkCore::finish_part(uint16_t slot, BlkResult result) {
  BlkRequest* r = slots_[slot].owner;
  slots_[slot].owner = nullptr;
  free_slots_[free_count_++] = slot;
  --in_use_;
  finish_request_parts(r, 1, result);
}

void BlkCore::finish_request_parts(BlkRequest* r, uint32_t parts, BlkResult result) {
  if (result != BlkResult::kSuccess && r->core.result == BlkResult::kSuccess) {
    r->core.result = result;
  }
  r->core.parts_done += parts;
  if (r->core.parts_done == r->core.parts_total) {
    ++counters_.completed;
    config_.on_complete(config_.context, r, r->core.result);
  }
}

// ---- recovery -------------------------------------------------------------------

void BlkCore::recover(const char* why) {
  ++counters_.resets;
  log_event(*os_, LogLevel::kWarning, why, static_cast<uint64_t>(queue_.broken_reason()),
            in_use_);
  if (++resets_without_progress_ > kMaxResetsWithoutProgress) {
    fail_device();
    return;
  }
  restart();
}

void BlkCore::reset() {
  if (state_ != State::kRunning) return;
  drain();
  if (state_ != State::kRunning) return;
  ++counters_.os_resets;
  restart();
}

void BlkCore::restart() {
  const BlkError e = bring_up(false);
  if (e != BlkError::kNone) {
    log_event(*os_, LogLevel::kError, "blk: re-init failed", static_cast<uint64_t>(e),
              static_cast<uint64_t>(transport_error_));
    fail_device();
    return;
  }
  // Every chain the device had not completed goes into the fresh ring; they
  // all fitted in it before, so they fit again.
  for (uint16_t slot = 0; slot < queue_size_; ++slot) {
    if (slots_[slot].owner == nullptr) continue;
    if (add_chain(slot) != vq::DriverStatus::kOk) {
      fail_device();
      return;
    }
    ++counters_.reissued;
    ++counters_.parts_issued;
  }
  kick();
  pump();
}

void BlkCore::fail_device() {
  state_ = State::kFailed;
  driver_.fail();
  log_event(*os_, LogLevel::kError, "blk: device failed; aborting requests", in_use_,
            pending_count_);
  for (uint16_t slot = 0; slot < queue_size_; ++slot) {
    if (slots_[slot].owner != nullptr) finish_part(slot, BlkResult::kAborted);
  }
  // Requests still pending: their unissued chains end here too (issued ones
  // were just counted above), so each completes exactly once.
  for (uint32_t guard = 0; guard < config_.pending_capacity && pending_count_ != 0; ++guard) {
    BlkRequest* r = config_.pending[pending_head_];
    pending_head_ = static_cast<uint16_t>((pending_head_ + 1) % config_.pending_capacity);
    --pending_count_;
    finish_request_parts(r, r->core.parts_total - r->core.parts_issued, BlkResult::kAborted);
  }
}

}  // namespace aerov::drivers::windows7
