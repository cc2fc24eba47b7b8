// The vhost-user back-end state machine: serves one transport::VirtioDevice
// to a vhost-user front-end (QEMU), which owns the PCI side.
//
// handle() takes one parsed message (with the file descriptors that came
// with it) and returns the reply to send, if any. It owns no socket, so the
// parser and state machine are tested without QEMU; VhostUserServer does the
// I/O. The front-end is untrusted like a guest: every payload size, ring
// index, memory region and ring address is checked, and a bad message gets
// a typed VhostError and a line in last_error(), never a crash.
//
// Ring life cycle (vhost-user.rst "Starting and stopping rings"): a ring
// starts when its kick descriptor arrives and stops at GET_VRING_BASE. Ring
// addresses arrive as front-end virtual addresses and are translated through
// the memory table's userspace_addr into guest-physical addresses before the
// DeviceQueue sees them. The device is activated once every ring it has is
// started and reset when one stops.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/memory/guest_memory.hpp"
#include "transport/device/virtio_device.hpp"
#include "transport/vhost_user/vhost_user_wire.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::transport::vhost_user {

enum class VhostError : uint8_t {
  kNone = 0,
  kBadVersion,        // header version is not 1
  kPayloadTooLarge,   // size above kMaxPayloadBytes (framing error)
  kBadPayloadSize,    // payload size does not match the request
  kUnknownRequest,    // a request we do not implement or did not offer
  kBadRingIndex,      // ring index >= the device's queue count
  kBadRingSize,       // SET_VRING_NUM not a power of two in 1..32768
  kTooManyRegions,    // memory table with 0 or more than kMaxRegions
  kFdCountMismatch,   // file descriptors do not match what the request carries
  kBadRegion,         // zero size, wrapping, overlapping region
  kMmapFailed,        // the host refused to map a region
  kAddressNotMapped,  // a ring address outside every region of the table
  kRingRejected,      // the DeviceQueue refused the ring (see last_error)
  kNoMemoryTable,     // ring started before any SET_MEM_TABLE
  kBadConfigRange,    // GET/SET_CONFIG outside the 256-byte window
};

std::string_view to_string(VhostError e);

struct Message {
  uint32_t request = 0;
  uint32_t flags = kVersion;
  std::vector<uint8_t> payload;
  std::vector<int> fds;  // owned: handle() closes what it does not keep
};

struct Reply {
  uint32_t request = 0;
  std::vector<uint8_t> payload;
};

// Checks a header read from the socket before its payload is read.
VhostError check_header(const MsgHeader& header);

struct VhostStats {
  uint64_t messages = 0;
  uint64_t errors = 0;
  uint64_t kicks = 0;
  uint64_t calls = 0;           // eventfd signals sent to the front-end
  uint64_t activations = 0;
  uint64_t mem_tables = 0;
};

class VhostUserBackend final : public DeviceTransport {
 public:
  // offered_protocol_features: a subset of kOfferedProtocolFeatures. QEMU's
  // virtio-net takes its configuration from its own device, not from
  // GET_CONFIG, so net back-ends leave kProtocolConfig out.
  explicit VhostUserBackend(VirtioDevice& device, uint64_t offered_protocol_features = kOfferedProtocolFeatures);
  ~VhostUserBackend();
  VhostUserBackend(const VhostUserBackend&) = delete;
  VhostUserBackend& operator=(const VhostUserBackend&) = delete;

  // Handles one message; the returned reply (if any) goes back to the
  // front-end. On an error with no reply due, the error is in last_error().
  std::optional<Reply> handle(Message& message);

  // The kick eventfd of ring q fired (the server has drained it).
  void kick(uint16_t q);
  // Re-serves every started ring (e.g. a host-side event such as a frame
  // from a net backend wants the device to look at its rings).
  void poll_all();

  // Called for each interrupt the device raises for ring q (whether or not
  // a call descriptor is set), e.g. for a trace recorder.
  std::function<void(uint16_t q)> on_interrupt;

  // The front-end hung up: stop every ring, reset the device, unmap memory.
  void disconnect();

  // Kick descriptors of started rings, for the server's poll set.
  struct KickFd {
    uint16_t ring;
    int fd;
  };
  std::vector<KickFd> kick_fds() const;

  bool active() const { return active_; }
  bool needs_reset() const { return needs_reset_; }
  uint64_t acked_features() const { return features_; }
  uint64_t protocol_features() const { return protocol_features_; }
  const VhostStats& stats() const { return stats_; }
  const std::string& last_error() const { return last_error_; }
  VhostError last_error_code() const { return last_error_code_; }
  bool ring_started(uint16_t q) const { return q < rings_.size() && rings_[q].started; }
  bool ring_enabled(uint16_t q) const { return q < rings_.size() && rings_[q].enabled; }
  bool has_memory() const { return memory_ != nullptr; }

  // transport::DeviceTransport
  model::GuestMemory& memory() override;
  virtqueue::DeviceQueue& queue(uint16_t q) override;
  void used_buffers_published(uint16_t q) override;
  void config_changed() override {}
  void set_needs_reset() override;
  uint64_t negotiated_features() const override { return features_ & ~kFeatureProtocolFeatures; }

  static constexpr uint64_t kOfferedProtocolFeatures = kProtocolMq | kProtocolReplyAck | kProtocolConfig;

 private:
  struct Ring {
    uint32_t num = 0;
    uint64_t desc_ua = 0, avail_ua = 0, used_ua = 0;
    bool addr_set = false;
    uint16_t base = 0;
    int kick = -1;
    int call = -1;
    bool started = false;
    bool enabled = false;
    virtqueue::DeviceQueue queue;
  };
  struct Mapping {
    void* addr;
    size_t len;
  };
  struct Memory {
    model::GuestMemory guest;
    std::vector<MemRegion> table;
    std::vector<Mapping> mappings;
    ~Memory();
  };

  VhostError dispatch(Message& m, std::optional<Reply>& reply);
  VhostError set_mem_table(Message& m);
  VhostError set_vring_addr(const Message& m);
  VhostError set_vring_fd(Message& m, bool kick);
  VhostError get_vring_base(const Message& m, std::optional<Reply>& reply);
  VhostError get_config(const Message& m, std::optional<Reply>& reply);
  VhostError set_config(const Message& m);
  VhostError start_ring(uint16_t q);
  void stop_ring(uint16_t q);
  void reset_all();
  VhostError ring_index(uint64_t raw, uint16_t& q) const;
  VhostError fail(VhostError e, std::string detail);
  std::optional<uint64_t> to_gpa(uint64_t ua, const Memory& mem) const;

  VirtioDevice& device_;
  uint64_t features_ = 0;
  uint64_t protocol_features_ = 0;
  uint64_t offered_protocol_features_;
  bool active_ = false;
  bool needs_reset_ = false;
  std::vector<Ring> rings_;
  virtqueue::DeviceQueue unconfigured_;  // queue(q) for a q we do not have
  std::unique_ptr<Memory> memory_;
  // Tables replaced while rings ran stay mapped: a device model may still
  // hold pointers into them until the rings are reconfigured.
  std::vector<std::unique_ptr<Memory>> retired_;
  model::GuestMemory empty_memory_;
  VhostStats stats_;
  std::string last_error_;
  VhostError last_error_code_ = VhostError::kNone;
};

}  // namespace aerov::transport::vhost_user
