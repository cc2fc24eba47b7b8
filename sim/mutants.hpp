// Deliberately broken device-model variants, to prove that the simulation's
// faults and oracles catch real bugs (each mutant is only selectable
// through RunOptions::mutant / `aero-virtio sim --mutant`, and tests run a
// bounded sweep expecting a failure). Each is built by decoration, so the
// device models themselves carry no test hooks.
#pragma once

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
};

std::string_view to_string(Mutant m);
// "none", "disk-hides-errors", ...; false for an unknown name.
bool parse_mutant(std::string_view name, Mutant* out);
const std::vector<std::string>& mutant_names();

// kDiskHidesErrors: a backend whose failures read as success.
class ErrorHidingDisk final : public model::backends::DiskBackend {
 public:
  explicit ErrorHidingDisk(DiskBackend& inner) : inner_(inner) {}
  uint64_t sector_count() const override { return inner_.sector_count(); }
  void submit(const model::backends::DiskRequest& r) override { inner_.submit(r); }
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
  void drain() override { inner_.drain(); }
  size_t in_flight() const override { return inner_.in_flight(); }

 private:
  DiskBackend& inner_;
};

// kAssumesFifoBackend: each completion is reported for the oldest request
// still outstanding, whatever request actually finished.
class FifoAssumingDisk final : public model::backends::DiskBackend {
 public:
  explicit FifoAssumingDisk(DiskBackend& inner) : inner_(inner) {}
  uint64_t sector_count() const override { return inner_.sector_count(); }
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
  size_t in_flight() const override { return inner_.in_flight(); }

 private:
  DiskBackend& inner_;
  std::vector<uint64_t> order_;
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
