// Deliberately broken variants of a device model, of a driver's OS glue or
// of the net scenario's peer, to prove that the simulation's faults and
// oracles catch real bugs (each mutant is only selectable through
// RunOptions::mutant / `aero-virtio sim --mutant`, and tests run a bounded
// sweep expecting a failure). Device mutants decorate the model; glue and
// peer mutants switch the glue and peer the simulation itself plays. So
// neither the device models nor the freestanding driver cores carry test
// hooks.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/backends/disk/disk_backend.hpp"
#include "transport/device/forwarding_device.hpp"

namespace aerov::sim {

enum class Mutant : uint8_t {
  kNone = 0,
  // Fault kind backend_io_error: the device reports success for requests
  // its backend failed (the classic "lost error" bug).
  kDiskHidesErrors,
  // Fault kind needs_reset: after a reset of a running device (the STAT-4
  // recovery) the device never serves a queue again, as a model that
  // forgets to re-arm itself.
  kDeadAfterReset,
  // Fault kind backend_latency: the device assumes its backend completes in
  // submission order and matches each completion to the oldest request.
  kAssumesFifoBackend,
  // Fault kind spurious_doorbell: the device takes a doorbell that brings
  // no new buffers for a broken ring and asks for a reset (STAT-4) instead
  // of ignoring it.
  kEmptyKickIsError,
  // Fault kind driver_reset: the device model ignores a reset of a running
  // device (STAT-2): requests it had in flight live on and complete into
  // the rings the driver sets up afterwards.
  kKeepsRequestsAcrossReset,
  // Fault kind spurious_irq (driver glue): the interrupt routine takes an
  // interrupt its core disowns (ISR 0 on a shared line, a message covering
  // nothing) for a surprise removal and stops serving the device.
  kForeignIrqMeansRemoved,
  // Fault kind irq_delay (driver glue, net): the DPC indicates received
  // frames from a fixed array of kRxBatch and silently drops the rest,
  // assuming one interrupt never finds more.
  kRxBatchOverflow,
  // Fault kind irq_coalesce (driver glue, net): the DPC returns sent frames
  // to the OS from a fixed array of kCompletionBatch and forgets the rest.
  kCompletionBatchOverflow,
  // Fault kind peer_loss (net peer): the peer passes frames through a ring
  // of PeerRing::kSlots buffers and waits for a buffer's frame to go out
  // before reusing it, but its drop path never frees the buffer: the ring
  // stops when it comes round to it.
  kPeerRingLeaksOnDrop,
  // Fault kind peer_reorder (net peer): the same ring without the wait; it
  // reuses buffers round robin, assuming a frame goes out before the ring
  // comes round (in order, or nearly so).
  kPeerRingIgnoresOwnership,
  // No fault kind (blk's read oracle): each read's last byte is left as it
  // was before the read, as by a device whose DMA stops one byte short.
  kReadLeavesAByte,
};

std::string_view to_string(Mutant m);
// "none", "disk-hides-errors", ...; false for an unknown name.
bool parse_mutant(std::string_view name, Mutant* out);
const std::vector<std::string>& mutant_names();

// A disk backend that passes everything to another; the disk mutants
// below override the part they break.
class ForwardingDisk : public model::backends::DiskBackend {
 public:
  explicit ForwardingDisk(DiskBackend& inner) : inner_(inner) {}
  uint64_t sector_count() const override { return inner_.sector_count(); }
  void submit(const model::backends::DiskRequest& r) override { inner_.submit(r); }
  size_t poll(std::vector<model::backends::DiskCompletion>& out) override { return inner_.poll(out); }
  void drain() override { inner_.drain(); }
  size_t in_flight() const override { return inner_.in_flight(); }

 protected:
  DiskBackend& inner_;
};

// kDiskHidesErrors: a backend whose failures read as success.
class ErrorHidingDisk final : public ForwardingDisk {
 public:
  using ForwardingDisk::ForwardingDisk;
  size_t poll(std::vector<model::backends::DiskCompletion>& out) override {
    const size_t before = out.size();
    const size_t n = inner_.poll(out);
    for (size_t i = before; i < out.size(); ++i) {
      if (out[i].status == model::backends::DiskStatus::kIoError) {
        out[i].status = model::backends::DiskStatus::kOk;
      }
    }
    return n;
  }
};

// kAssumesFifoBackend: each completion is reported for the oldest request
// still outstanding, whatever request actually finished.
class FifoAssumingDisk final : public ForwardingDisk {
 public:
  using ForwardingDisk::ForwardingDisk;
  void submit(const model::backends::DiskRequest& r) override {
    order_.push_back(r.tag);
    inner_.submit(r);
  }
  size_t poll(std::vector<model::backends::DiskCompletion>& out) override {
    const size_t before = out.size();
    const size_t n = inner_.poll(out);
    for (size_t i = before; i < out.size() && !order_.empty(); ++i) {
      out[i].tag = order_.front();
      order_.erase(order_.begin());
    }
    return n;
  }
  void drain() override {
    inner_.drain();
    order_.clear();
  }

 private:
  std::vector<uint64_t> order_;
};

// kReadLeavesAByte: when a read completes, the last byte of its buffers
// gets back the value it had when the read was submitted.
class ShortReadDisk final : public ForwardingDisk {
 public:
  using ForwardingDisk::ForwardingDisk;
  void submit(const model::backends::DiskRequest& r) override {
    if (r.op == model::backends::DiskOp::kRead && !r.buffers.empty() && r.buffers.back().len != 0) {
      uint8_t* last = r.buffers.back().data + r.buffers.back().len - 1;
      kept_.push_back(Kept{r.tag, last, *last});
    }
    inner_.submit(r);
  }
  size_t poll(std::vector<model::backends::DiskCompletion>& out) override {
    const size_t before = out.size();
    const size_t n = inner_.poll(out);
    for (size_t i = before; i < out.size(); ++i) {
      for (auto k = kept_.begin(); k != kept_.end(); ++k) {
        if (k->tag == out[i].tag) {
          *k->at = k->value;
          kept_.erase(k);
          break;
        }
      }
    }
    return n;
  }
  void drain() override {
    inner_.drain();
    kept_.clear();
  }

 private:
  struct Kept {
    uint64_t tag;
    uint8_t* at;
    uint8_t value;
  };
  std::vector<Kept> kept_;
};

// The driver's OS glue around a core, as SimMachine plays it: the
// interrupt routine and its DPC (one per call of the core's interrupt or
// message routine, or of the OS reset) and the callbacks handing completed
// work to the OS. Correct unless a glue mutant is selected.
class DriverGlue {
 public:
  // Without faults a DPC sees a handful of either: no seed of 1..200 comes
  // near 10. A late interrupt brings over a hundred frames.
  static constexpr uint32_t kRxBatch = 64;
  static constexpr uint32_t kCompletionBatch = 10;

  explicit DriverGlue(Mutant m) : mutant_(m) {}
  // Whether the glue still calls into the core.
  bool serving() const { return !removed_; }
  // A DPC begins: the per-DPC arrays are empty again.
  void begin_dpc() { rx_batch_ = completion_batch_ = 0; }
  // The core's interrupt routine answered; returns what the glue tells the OS.
  bool answered(bool ours) {
    if (!ours && mutant_ == Mutant::kForeignIrqMeansRemoved) removed_ = true;
    return ours;
  }
  // Whether one more received frame / sent frame goes back to the OS.
  bool pass_rx_frame() {
    return mutant_ != Mutant::kRxBatchOverflow || ++rx_batch_ <= kRxBatch;
  }
  bool pass_completion() {
    return mutant_ != Mutant::kCompletionBatchOverflow || ++completion_batch_ <= kCompletionBatch;
  }

 private:
  Mutant mutant_;
  bool removed_ = false;
  uint32_t rx_batch_ = 0;
  uint32_t completion_batch_ = 0;
};

// The buffers the net scenario's peer keeps frames in until it echoes them.
// Correct (no ring mutant): every frame has its own, and the peer does not
// use this class. The ring mutants pass every frame through kSlots buffers
// taken round robin.
class PeerRing {
 public:
  static constexpr uint32_t kSlots = 64;

  explicit PeerRing(Mutant m) : mutant_(m) {}
  bool selected() const {
    return mutant_ == Mutant::kPeerRingLeaksOnDrop || mutant_ == Mutant::kPeerRingIgnoresOwnership;
  }
  // Whether the next buffer may take a frame now.
  bool can_take() const {
    return mutant_ == Mutant::kPeerRingIgnoresOwnership || !busy_[next_ % kSlots];
  }
  uint32_t take(std::vector<uint8_t> frame) {
    const uint32_t slot = next_++ % kSlots;
    busy_[slot] = true;
    bytes_[slot] = std::move(frame);
    return slot;
  }
  // What the buffer holds now.
  const std::vector<uint8_t>& bytes(uint32_t slot) const { return bytes_[slot]; }
  void sent(uint32_t slot) { busy_[slot] = false; }
  void dropped(uint32_t slot) {
    if (mutant_ != Mutant::kPeerRingLeaksOnDrop) busy_[slot] = false;
  }

 private:
  Mutant mutant_;
  uint64_t next_ = 0;
  std::array<bool, kSlots> busy_{};
  std::array<std::vector<uint8_t>, kSlots> bytes_{};
};

// The device a run uses: `device` itself, or the mutant decorating it (kept
// in `holder`) for the mutants that are device decorators.
transport::VirtioDevice& with_mutant(Mutant m, transport::VirtioDevice& device,
                                     std::unique_ptr<transport::VirtioDevice>& holder);

// kEmptyKickIsError.
class EmptyKickIsErrorDevice final : public transport::ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override {
    if (t.queue(q).configured() && t.queue(q).num_available() == 0) {
      t.set_needs_reset();
      return;
    }
    ForwardingDevice::queue_notify(q, t);
  }
};

// kKeepsRequestsAcrossReset.
class ResetIgnoringDevice final : public transport::ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;
  void activate(transport::DeviceTransport& t) override {
    active_ = true;
    ForwardingDevice::activate(t);
  }
  void reset() override {
    if (!active_) ForwardingDevice::reset();  // the driver's reset at init
  }

 private:
  bool active_ = false;
};

// kDeadAfterReset.
class DeadAfterResetDevice final : public transport::ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;
  void activate(transport::DeviceTransport& t) override {
    active_ = true;
    ForwardingDevice::activate(t);
  }
  void reset() override {
    dead_ = dead_ || active_;  // the driver's first reset at init is fine
    ForwardingDevice::reset();
  }
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override {
    if (!dead_) ForwardingDevice::queue_notify(q, t);
  }

 private:
  bool active_ = false;
  bool dead_ = false;
};

}  // namespace aerov::sim
