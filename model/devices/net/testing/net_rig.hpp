// A one-NIC machine for virtio-net tests, conformance checks and the
// fuzzer: a DriverRig (guest RAM below and above 4 GiB, a PCI bus, a
// recorded INTx line, firmware enumeration, the driver end) whose virtio-pci
// function holds a NetDevice. Driver and device meet only through config
// space, BAR0 MMIO, guest memory and INTx.
//
// Two ways to drive the queues:
//   * the real driver rings (DriverQueue): post_rx()/send() and friends;
//   * raw rings written descriptor by descriptor (RingBuilder, a hostile
//     driver) when options.raw_ring: raw_chain() and raw_used().
// Either way the doorbell is the driver's BAR0 write.
//
// Guest-physical layout: rxq ring (and raw scratch) at kRxRingGpa, txq at
// kTxRingGpa, one kBufBytes buffer per RX slot from kRxBufGpa and per TX
// slot from kTxBufGpa (TX: 10-byte header at +0, frame at +16), free space
// from kDataGpa and in high RAM from kHighRam.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "model/backends/net/net_backend.hpp"
#include "model/devices/net/net_device.hpp"
#include "transport/testing/driver_rig.hpp"

namespace aerov::model::devices::testing {

// A backend that records every frame the guest sends and lets a test
// inject frames for the guest (bounded: keeps the last kMaxRecorded).
class RecordingPeer final : public backends::NetBackend {
 public:
  static constexpr size_t kMaxRecorded = 4096;
  void attach(backends::NetPort* port) override { port_ = port; }
  void transmit(std::span<const uint8_t> frame) override {
    if (sent.size() == kMaxRecorded) sent.erase(sent.begin());
    sent.emplace_back(frame.begin(), frame.end());
  }
  void inject(std::span<const uint8_t> frame) {
    if (port_ != nullptr) port_->receive_frame(frame);
  }
  std::vector<std::vector<uint8_t>> sent;

 private:
  backends::NetPort* port_ = nullptr;
};

struct NetRigOptions {
  NetDeviceOptions device{};
  backends::NetBackend* backend = nullptr;  // kept alive by the caller
  bool raw_ring = false;        // RingBuilder rings instead of DriverQueues
  bool wire_rx_pending = true;  // deliver() runs process_queue(rxq) at once
  bool bring_up = true;
};

// NEXT is added by raw_chain.
using NetRawDesc = transport::testing::RawDesc;

using RxCompletion = transport::testing::UsedSlot;

class NetRig : public transport::testing::DriverRig {
 public:
  static constexpr uint64_t kRxRingGpa = 0x100000;
  static constexpr uint64_t kTxRingGpa = 0x200000;
  static constexpr uint64_t kRawScratchBytes = 0x80000;
  static constexpr uint64_t kRxBufGpa = 0x400000;
  static constexpr uint64_t kTxBufGpa = 0x600000;
  static constexpr uint64_t kBufBytes = 2048;
  static constexpr uint64_t kDataGpa = 0x800000;
  static constexpr uint64_t kTxFrameOffset = 16;
  static constexpr uint8_t kUnwritten = 0xEE;  // RX buffers start with this
  static constexpr model::pci::Bdf kBdf{0, 5, 0};

  explicit NetRig(const NetRigOptions& options = {});

  // attach, reset, negotiate, program both queues, DRIVER_OK (STAT-3).
  transport::TransportError bring_up();
  // STAT-4 recovery: reset, detach every outstanding chain, bring up again.
  void recover();

  uint64_t rx_buf(uint16_t slot) const { return kRxBufGpa + kBufBytes * slot; }
  uint64_t tx_buf(uint16_t slot) const { return kTxBufGpa + kBufBytes * slot; }

  // ---- rxq through the real driver ring ---------------------------------
  // One writable segment of `len` bytes at rx_buf(slot), filled with
  // kUnwritten first; not yet published.
  virtqueue::DriverStatus post_rx(uint16_t slot, uint32_t len = kBufBytes);
  virtqueue::DriverStatus post_rx_segments(uint16_t slot, std::span<const virtqueue::Segment> segs);
  // Posts slots [0, count) and kicks.
  void post_rx_all(uint16_t count, uint32_t len = kBufBytes);
  void kick_rx();
  std::vector<RxCompletion> reap_rx();
  // The frame in an RX completion posted with post_rx: bytes after the
  // 10-byte header. Empty if len < 10.
  std::vector<uint8_t> rx_frame(const RxCompletion& c) const;
  std::vector<uint8_t> rx_header(const RxCompletion& c) const;

  // ---- txq through the real driver ring ---------------------------------
  // Zero header at tx_buf(slot), frame at +16: two readable segments.
  virtqueue::DriverStatus send(uint16_t slot, std::span<const uint8_t> frame);
  virtqueue::DriverStatus send_segments(uint16_t slot, std::span<const virtqueue::Segment> segs);
  void kick_tx();
  // (slot, used.len) of every TX completion the driver can take now.
  std::vector<std::pair<uint16_t, uint32_t>> reap_tx();

  // ---- raw rings (options.raw_ring): DriverRig's raw_chain(q, ...),
  // raw_table(q, ...) and raw_used(q, ...) ----------------------------------
  virtqueue::testing::RingBuilder& raw(uint16_t q) { return q == 0 ? *raw_rx : *raw_tx; }
  uint16_t raw_used_idx(uint16_t q) { return raw(q).used_idx(); }
  void notify(uint16_t q) { driver.notify(q); }

  // ---- host side: DriverRig's peek/poke/fill, read_config, needs_reset -----

  std::unique_ptr<NetDevice> device;
  virtqueue::DriverQueue& rxq = queues[NetDevice::kRxQueue];
  virtqueue::DriverQueue& txq = queues[NetDevice::kTxQueue];
  std::optional<virtqueue::testing::RingBuilder>& raw_rx = raw_rings[NetDevice::kRxQueue];
  std::optional<virtqueue::testing::RingBuilder>& raw_tx = raw_rings[NetDevice::kTxQueue];

 private:
  NetRigOptions options_;
};

// A well-formed Ethernet II frame of `len` bytes (>= 14): destination
// `dst`, source 52:54:00:aa:bb:cc, EtherType 0x88B5 (local experimental),
// payload bytes seed, seed+1, ...
std::vector<uint8_t> make_frame(uint32_t len, uint8_t seed = 0,
                                std::array<uint8_t, 6> dst = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});

}  // namespace aerov::model::devices::testing
