// virtio-net device model (contract section 7, NET-1..NET-7) on the
// virtio-pci transport (transport::VirtioDevice) and a NetBackend.
//
// Queues: rxq (0) and txq (1) with the contract's sizes, no control queue
// (NET-1); features exactly the contract's offer (NET-2); config {mac[6],
// le16 status, le16 max_virtqueue_pairs = 1} (NET-3), every byte after it
// reads 0 and config writes are ignored (MAC is not driver-writable without
// CTRL_MAC_ADDR, which is never offered).
//
// The guest is hostile. Decisions the contract leaves to the device:
//
// TX (NET-6). A chain's device-readable bytes, in descriptor order, are one
//   stream: its first 10 bytes are the virtio_net_hdr (ignored, NET-4), the
//   rest is the frame. Descriptor boundaries do not matter (the header may
//   share a descriptor with the frame, or be split). Every TX chain is
//   completed with used.len = 0. It is dropped, and the drop counted by
//   cause, when: the ring walker rejects it (VQ-7, tx_chain_error); any
//   descriptor is device-writable (tx_writable); fewer than 10 readable
//   bytes (tx_short_header); the frame is outside 14..1522 bytes
//   (tx_runt / tx_oversize); the link is down (tx_link_down).
// RX (NET-7). A frame needs one posted chain of only device-writable
//   descriptors with at least 10 + frame-length bytes; the device writes a
//   zero header and the frame across the descriptors in order and completes
//   the chain with used.len = 10 + frame length.
//   * "Chain stays posted": DeviceQueue::pop consumes the avail entry, so
//     the device holds the popped chain (rx_held_) instead. A frame that does
//     not fit is dropped (rx_too_small) and the held chain is offered to the
//     next frame; the driver still owns nothing back, exactly as if the chain
//     were still in the avail ring. The held chain is forgotten at reset.
//   * A chain with a device-readable descriptor is malformed for RX: it is
//     completed at once with used.len = 0 (rx_readable) and the frame waits
//     for the next chain. Likewise a chain error (VQ-7, rx_chain_error).
//   * Zero-length descriptors (project decision (b)) carry no bytes and
//     their address is never used, but their direction flag counts like any
//     other descriptor's: a zero-length WRITE descriptor in a TX chain drops
//     the frame (NET-6 says "a WRITE descriptor"), a zero-length readable one
//     in an RX chain makes the chain malformed; in the right direction they
//     are simply skipped.
//   * Chains are only taken from rxq while a frame is waiting, so a chain
//     error on rxq is completed when the next frame arrives.
//   * Frames from the backend wait in a host queue of kHostQueueFrames; when
//     it is full the oldest waiting frame is dropped (rx_overflow). Frames
//     outside 14..1522 bytes are refused at delivery (rx_bad_length), as are
//     frames while the link is down (rx_link_down).
//
// Work per doorbell is bounded (VQ-8): at most N chains popped per queue.
// A ring error stops the queue; the transport raises DEVICE_NEEDS_RESET
// (STAT-4). deliver() never touches guest memory itself: it queues the
// frame and calls the rx-pending hook, which the machine wires to
// VirtioPciFunction::process_queue(kRxQueue) so DMA stays behind the
// transport's DRIVER_OK and Bus Master gating (BAR-4). Every queue_notify
// also drains waiting frames, so a frame sent back from inside transmit()
// (loopback) reaches the guest during the same doorbell.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/backends/net/net_backend.hpp"
#include "model/devices/net/net_wire.hpp"
#include "transport/device/virtio_device.hpp"
#include "virtqueue/device/device_queue.hpp"

namespace aerov::model::devices {

struct NetDeviceOptions {
  std::array<uint8_t, 6> mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  bool link_up = true;
  // virtio_net_hdr size: the contract's 10 bytes (NET-4). A virtio 1.0
  // guest that is not a contract driver (Linux over vhost-user) uses the
  // 12-byte header with num_buffers whenever VERSION_1 is negotiated.
  uint32_t header_bytes = net::kHeaderBytes;
};

// What the device did, per cause; every dropped frame is in exactly one.
struct NetStats {
  uint64_t tx_frames = 0;        // handed to the backend
  uint64_t tx_bytes = 0;
  uint64_t tx_chain_error = 0;
  uint64_t tx_writable = 0;
  uint64_t tx_short_header = 0;
  uint64_t tx_runt = 0;          // frame < 14 bytes
  uint64_t tx_oversize = 0;      // frame > 1522 bytes
  uint64_t tx_link_down = 0;
  uint64_t rx_frames = 0;        // written into a guest chain
  uint64_t rx_bytes = 0;
  uint64_t rx_too_small = 0;     // frame dropped, chain kept (NET-7)
  uint64_t rx_overflow = 0;      // oldest host-queued frame dropped
  uint64_t rx_bad_length = 0;    // refused by deliver()
  uint64_t rx_link_down = 0;     // refused by deliver()
  uint64_t rx_chain_error = 0;   // chain completed with len 0 (VQ-7)
  uint64_t rx_readable = 0;      // chain with a readable descriptor, len 0
  uint64_t rx_reset = 0;         // host-queued frames dropped by a device reset
};

class NetDevice final : public transport::VirtioDevice, public backends::NetPort {
 public:
  static constexpr uint16_t kRxQueue = 0;
  static constexpr uint16_t kTxQueue = 1;
  static constexpr size_t kHostQueueFrames = 256;  // NET-7 (P)

  // backend may be null (frames the guest sends are counted and discarded).
  explicit NetDevice(backends::NetBackend* backend, const NetDeviceOptions& options = {});
  ~NetDevice() override;
  NetDevice(const NetDevice&) = delete;
  NetDevice& operator=(const NetDevice&) = delete;

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

  // Host side: a frame for the guest (NET-7). Returns false when refused
  // (length outside 14..1522, link down); true when queued, possibly pushing
  // out the oldest waiting frame.
  bool deliver(std::span<const uint8_t> frame);
  // Called after deliver() queued a frame, unless the device is inside a
  // queue_notify (which drains the queue itself). Wire it to
  // process_queue(kRxQueue).
  std::function<void()> on_rx_pending;

  // Changes the LINK_UP bit at run time (NET-3, CFG-4): config_changed() is
  // raised when the driver is running.
  void set_link_up(bool up);
  bool link_up() const { return link_up_; }
  const std::array<uint8_t, 6>& mac() const { return mac_; }

  size_t host_queue_frames() const { return host_queue_.size(); }
  bool holding_rx_chain() const { return rx_held_; }
  bool active() const { return transport_ != nullptr; }
  const NetStats& stats() const { return stats_; }

 private:
  // backends::NetPort
  void receive_frame(std::span<const uint8_t> frame) override { deliver(frame); }

  bool serve_tx(transport::DeviceTransport& t);
  bool serve_rx(transport::DeviceTransport& t);
  void transmit_chain(const virtqueue::DescChain& chain, transport::DeviceTransport& t);
  bool write_frame(const virtqueue::DescChain& chain, std::span<const uint8_t> frame,
                   transport::DeviceTransport& t);

  backends::NetBackend* backend_;
  std::array<uint8_t, 6> mac_;
  bool link_up_;
  uint32_t header_bytes_;
  transport::DeviceTransport* transport_ = nullptr;
  int notify_depth_ = 0;
  // Frames waiting for an RX chain, oldest first: a ring whose slots keep
  // their buffers, so queueing a frame allocates nothing once they have grown.
  class FrameQueue {
   public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const std::vector<uint8_t>& front() const { return slots_[head_]; }
    void pop_front() {
      // Emptied: start again at slot 0, so a queue that stays short reuses
      // a few buffers that have grown, instead of growing all 256.
      head_ = --size_ == 0 ? 0 : (head_ + 1) % kHostQueueFrames;
    }
    void push_back(std::span<const uint8_t> frame) {
      slots_[(head_ + size_++) % kHostQueueFrames].assign(frame.begin(), frame.end());
    }
    void clear() { head_ = size_ = 0; }

   private:
    std::array<std::vector<uint8_t>, kHostQueueFrames> slots_;
    size_t head_ = 0;
    size_t size_ = 0;  // at most kHostQueueFrames
  };
  FrameQueue host_queue_;
  // rx_chain_ is popped and kept "posted" while rx_held_. Chains move
  // between it and chain_ by swap, so their segment storage is reused.
  bool rx_held_ = false;
  virtqueue::DescChain rx_chain_;
  virtqueue::DescChain chain_;  // reused by every pop
  std::vector<uint8_t> tx_bytes_;
  std::vector<uint8_t> rx_bytes_;
  NetStats stats_;
};

}  // namespace aerov::model::devices
