#include "model/devices/net/testing/net_rig.hpp"

#include "aerov/contract/windows_device_contract.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::model::devices::testing {

namespace vq = virtqueue;
using transport::TransportError;

std::vector<uint8_t> make_frame(uint32_t len, uint8_t seed, std::array<uint8_t, 6> dst) {
  std::vector<uint8_t> f(len);
  const uint8_t head[14] = {dst[0], dst[1], dst[2], dst[3], dst[4], dst[5],
                            0x52,   0x54,   0x00,   0xAA,   0xBB,   0xCC, 0x88, 0xB5};
  for (uint32_t i = 0; i < len; ++i) {
    f[i] = i < 14 ? head[i] : static_cast<uint8_t>(seed + i);
  }
  return f;
}

NetRig::NetRig(const NetRigOptions& o)
    : DriverRig("net rig", {contract::kNet.queues[NetDevice::kRxQueue].size,
                            contract::kNet.queues[NetDevice::kTxQueue].size}),
      options_(o) {
  device = std::make_unique<NetDevice>(o.backend, o.device);
  plug(*device, transport::contract_identity(contract::kNet, 0), kBdf);
  if (o.wire_rx_pending) {
    device->on_rx_pending = [this] { function->process_queue(NetDevice::kRxQueue); };
  }
  if (o.bring_up) require(bring_up() == TransportError::kNone, "bring-up");
}

TransportError NetRig::bring_up() {
  transport::testing::QueuePlan plans[2];
  for (uint16_t q = 0; q < 2; ++q) {
    plans[q].ring_gpa = q == 0 ? kRxRingGpa : kTxRingGpa;
    plans[q].raw = options_.raw_ring;
    plans[q].raw_scratch_bytes = kRawScratchBytes;
  }
  return DriverRig::bring_up(contract::kNet.features_offered, plans);
}

void NetRig::recover() {
  driver.reset();
  if (!options_.raw_ring) {
    detach_unused(NetDevice::kRxQueue);
    detach_unused(NetDevice::kTxQueue);
  }
  require(bring_up() == TransportError::kNone, "bring-up after reset");
}

vq::DriverStatus NetRig::post_rx(uint16_t slot, uint32_t len) {
  require(len <= kBufBytes, "rx buffer too long");
  fill(rx_buf(slot), kUnwritten, kBufBytes);
  const vq::Segment seg{rx_buf(slot), len, true};
  return post_rx_segments(slot, {&seg, 1});
}

vq::DriverStatus NetRig::post_rx_segments(uint16_t slot, std::span<const vq::Segment> segs) {
  require(slot < contract::kNet.queues[NetDevice::kRxQueue].size, "rx slot");
  return add_chain(NetDevice::kRxQueue, slot, segs);
}

void NetRig::post_rx_all(uint16_t count, uint32_t len) {
  for (uint16_t s = 0; s < count; ++s) require(post_rx(s, len) == vq::DriverStatus::kOk, "post_rx");
  kick_rx();
}

void NetRig::kick_rx() { kick(NetDevice::kRxQueue); }

std::vector<RxCompletion> NetRig::reap_rx() { return take_used(NetDevice::kRxQueue); }

std::vector<uint8_t> NetRig::rx_frame(const RxCompletion& c) const {
  if (c.len < net::kHeaderBytes) return {};
  return peek(rx_buf(c.slot) + net::kHeaderBytes, c.len - net::kHeaderBytes);
}

std::vector<uint8_t> NetRig::rx_header(const RxCompletion& c) const {
  return peek(rx_buf(c.slot), net::kHeaderBytes);
}

vq::DriverStatus NetRig::send(uint16_t slot, std::span<const uint8_t> frame) {
  require(kTxFrameOffset + frame.size() <= kBufBytes, "tx frame too long for a slot");
  fill(tx_buf(slot), 0, net::kHeaderBytes);
  poke(tx_buf(slot) + kTxFrameOffset, frame);
  const vq::Segment segs[2] = {{tx_buf(slot), net::kHeaderBytes, false},
                               {tx_buf(slot) + kTxFrameOffset, static_cast<uint32_t>(frame.size()), false}};
  return send_segments(slot, segs);
}

vq::DriverStatus NetRig::send_segments(uint16_t slot, std::span<const vq::Segment> segs) {
  require(slot < contract::kNet.queues[NetDevice::kTxQueue].size, "tx slot");
  return add_chain(NetDevice::kTxQueue, slot, segs);
}

void NetRig::kick_tx() { kick(NetDevice::kTxQueue); }

std::vector<std::pair<uint16_t, uint32_t>> NetRig::reap_tx() {
  std::vector<std::pair<uint16_t, uint32_t>> done;
  for (const auto& u : take_used(NetDevice::kTxQueue)) done.emplace_back(u.slot, u.len);
  return done;
}

}  // namespace aerov::model::devices::testing
