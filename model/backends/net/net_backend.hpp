// The seam between a virtio-net device model and the network behind it.
//
// The device hands every frame the guest transmits to NetBackend::transmit;
// the backend hands frames for the guest to the NetPort it was attached to
// (the device). Frames are Ethernet II without FCS (NET-5). Calls are
// synchronous and single-threaded: a backend may answer a transmit by
// calling NetPort::receive_frame before transmit returns (the loopback and
// the scripted peer do), so a NetPort must accept re-entrant delivery.
#pragma once

#include <cstdint>
#include <span>

#include "model/devices/net/net_wire.hpp"

namespace aerov::model::backends {

// Shortest and longest Ethernet II frame without FCS (contract NET-5).
using model::devices::net::kMinFrameBytes;
using model::devices::net::kMaxFrameBytes;

// The receiving end of a backend: normally the device model.
class NetPort {
 public:
  virtual void receive_frame(std::span<const uint8_t> frame) = 0;

 protected:
  ~NetPort() = default;
};

class NetBackend {
 public:
  virtual ~NetBackend() = default;
  // Where frames for the guest go from now on; nullptr detaches. The port
  // must outlive the attachment.
  virtual void attach(NetPort* port) = 0;
  // A frame the guest sent. The span is valid only during the call.
  virtual void transmit(std::span<const uint8_t> frame) = 0;
};

// TX comes straight back as RX: the guest talks to itself.
class LoopbackPeer final : public NetBackend {
 public:
  void attach(NetPort* port) override { port_ = port; }
  void transmit(std::span<const uint8_t> frame) override {
    ++frames_;
    if (port_ != nullptr) port_->receive_frame(frame);
  }
  uint64_t frames() const { return frames_; }

 private:
  NetPort* port_ = nullptr;
  uint64_t frames_ = 0;
};

}  // namespace aerov::model::backends
