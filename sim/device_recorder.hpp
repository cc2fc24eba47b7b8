// Records a device model that a transport outside the simulation serves
// (the vhost-user back-end, with a real guest on the other side) as a trace
// that `aero-virtio replay` runs against the same model on the contract's
// PCI transport, without the guest.
//
// The recorder decorates the device. Each time the transport hands the
// device control (activate, a ring to serve, reset) is one activity, and
// guest memory's observer reports every byte the device read (with the
// value it saw) and every range it wrote. After the activity the trace gets,
// in the order a replay reproduces them:
//
//   mem_write   the bytes the device read that the replay's memory lacks
//   trigger     what hands the device control on the PCI transport: the
//               common-config writes that set the rings up and set
//               DRIVER_OK, a doorbell, or a device_status write of 0
//   host_output and intx 1, in the order they happened: frames the device
//               sent its peer (RecordingNetBackend), and the first time the
//               device interrupted the driver (vhost-user: a call)
//   dma_write   what the device changed, as the replay will diff it
//   mmio_read   of ISR, value 1, then intx 0: the line drops as it does
//               when a driver reads ISR
//   state_hash  every 1024 events, of the replay's memory
//
// The recorder keeps its own copy of that memory (the "mirror"), so the
// guest's memory, which the guest changes all the time, is never compared.
// What cannot be expressed on the PCI transport (a ring size other than the
// device's, a ring restarted at a non-zero index, RAM above 1 GiB) stops the
// recording with a note saying why; the trace up to there stays valid.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/backends/net/net_backend.hpp"
#include "model/memory/guest_memory.hpp"
#include "sim/memory_shadow.hpp"
#include "traces/trace_writer.hpp"
#include "transport/device/forwarding_device.hpp"

namespace aerov::sim {

// The most guest RAM a recorded guest run may have: the replay keeps a full
// copy of it (MemoryShadow) besides the RAM itself.
inline constexpr uint64_t kGuestRunRamLimit = 1ull << 30;

class DeviceRecorder final : public transport::ForwardingDevice, private model::MemoryObserver {
 public:
  // provenance.config_json is a JSON object with what the replay needs to
  // build the device stack (e.g. disk_sectors); the recorder adds "source",
  // "ram_bytes" and "ranges" once the guest's memory is known. The file is
  // created at the first activation.
  DeviceRecorder(transport::VirtioDevice& inner, std::string path, traces::Provenance provenance);
  ~DeviceRecorder();

  // The transport interrupted the driver for ring q.
  void interrupt(uint16_t q);
  // The device handed the host `bytes` on `channel` (sim/trace_channels.hpp).
  void host_output(uint16_t channel, std::span<const uint8_t> bytes);
  // Writes the end record (the trace is complete only after this); returns
  // why recording stopped early, or "" if it covered the whole run.
  std::string finish();
  uint64_t events() const { return writer_ ? writer_->event_count() : 0; }

  void activate(transport::DeviceTransport& t) override;
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override;
  void reset() override;

 private:
  void device_read(uint64_t gpa, const uint8_t* bytes, uint64_t len) override;
  void device_wrote(uint64_t gpa, uint64_t len) override;

  void start(transport::DeviceTransport& t);
  std::string unrecordable(transport::DeviceTransport& t) const;
  template <typename Fn>
  void activity(const std::vector<traces::Event>& trigger, Fn&& fn);
  void write_activity(const std::vector<traces::Event>& trigger);
  void stop(const std::string& why);

  struct Access {
    uint64_t gpa;
    std::vector<uint8_t> bytes;
  };

  std::string path_;
  traces::Provenance provenance_;
  std::unique_ptr<traces::TraceWriter> writer_;
  model::GuestMemory mirror_;
  std::unique_ptr<MemoryShadow> shadow_;
  std::vector<model::GuestMemory::Span> spans_;  // the dirty log, storage reused
  model::GuestMemory* live_ = nullptr;  // the guest memory being observed
  bool active_ = false;
  bool in_activity_ = false;
  bool interrupted_ = false;
  std::vector<traces::Event> effects_;  // host_output and intx 1, in order
  std::string stopped_;
  uint64_t time_ = 0;  // activities so far: the trace's clock
  std::vector<Access> reads_;
  std::vector<Access> writes_;
};

// Between a net device and its peer: every frame the device sends is also
// a host_output of the recording. The peer itself (a ScriptedPeer) is part
// of what the replay rebuilds, so its answers are not recorded.
class RecordingNetBackend final : public model::backends::NetBackend {
 public:
  explicit RecordingNetBackend(model::backends::NetBackend& peer) : peer_(peer) {}
  void attach(model::backends::NetPort* port) override { peer_.attach(port); }
  void transmit(std::span<const uint8_t> frame) override;
  DeviceRecorder* recorder = nullptr;

 private:
  model::backends::NetBackend& peer_;
};

}  // namespace aerov::sim
