#include "model/devices/net/testing/net_rig.hpp"

#include <stdexcept>
#include <string>

#include "aerov/contract/windows_device_contract.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::model::devices::testing {

namespace vq = virtqueue;
using transport::TransportError;

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("net rig: ") + what);
}

}  // namespace

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
    : intx([this](bool level) { intx_levels.push_back(level); }), options_(o) {
  require(memory.add_ram(0, kRamBytes) == MemError::kOk, "low RAM");
  require(memory.add_ram(kHighRam, kRamBytes) == MemError::kOk, "high RAM");
  device = std::make_unique<NetDevice>(o.backend, o.device);
  transport::VirtioPciOptions po;
  po.intx = &intx;
  function = std::make_unique<transport::VirtioPciFunction>(
      *device, memory, transport::contract_identity(contract::kNet, 0), std::move(po));
  if (o.wire_rx_pending) {
    device->on_rx_pending = [this] { function->process_queue(NetDevice::kRxQueue); };
  }
  require(bus.attach(kBdf, function.get()) == model::pci::PciError::kOk, "attach");
  enumeration = model::pci::enumerate(
      bus, {{0xE000'0000, 0x1000'0000}, {0x80'0000'0000, 0x1'0000'0000}});
  require(enumeration.functions.size() == 1 && enumeration.functions[0].enabled, "enumeration");
  pci.emplace(bus, enumeration.functions[0]);
  rx_cookies_.resize(contract::kNet.queues[NetDevice::kRxQueue].size);
  tx_cookies_.resize(contract::kNet.queues[NetDevice::kTxQueue].size);
  if (o.bring_up) require(bring_up() == TransportError::kNone, "bring-up");
}

TransportError NetRig::bring_up() {
  TransportError e = driver.attach(*pci, transport::ValidationMode::kStrict, contract::kPciRevision);
  if (e == TransportError::kNone) e = driver.reset();
  if (e == TransportError::kNone) e = driver.negotiate(contract::kNet.features_offered, 0, &features);
  for (uint16_t q = 0; q < 2 && e == TransportError::kNone; ++q) {
    uint16_t size = 0;
    e = driver.queue_size(q, &size);
    if (e != TransportError::kNone) break;
    const uint64_t base = q == 0 ? kRxRingGpa : kTxRingGpa;
    if (options_.raw_ring) {
      auto& rb = q == 0 ? raw_rx : raw_tx;
      rb.emplace(memory, size, base, false, kRawScratchBytes);
      e = driver.setup_queue(q, rb->desc_addr(), rb->avail_addr(), rb->used_addr(),
                             transport::kNoVector);
      continue;
    }
    auto& states = q == 0 ? rx_states_ : tx_states_;
    auto& queue = q == 0 ? rxq : txq;
    states.assign(size, vq::DescState{});
    vq::DriverQueueConfig cfg{};
    cfg.size = size;
    cfg.ring = vq::DmaRegion{memory.translate(base, vq::ring_layout(size, false).total_bytes), base};
    cfg.state = states.data();
    require(queue.init(cfg) == vq::DriverStatus::kOk, "driver queue init");
    e = driver.setup_queue(q, queue.desc_pa(), queue.avail_pa(), queue.used_pa(), transport::kNoVector);
  }
  if (e == TransportError::kNone) driver.driver_ok();
  return e;
}

void NetRig::recover() {
  driver.reset();
  if (!options_.raw_ring) {
    void* cookie = nullptr;
    while (rxq.detach_unused(&cookie) == vq::DriverStatus::kOk) {}
    while (txq.detach_unused(&cookie) == vq::DriverStatus::kOk) {}
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
  require(slot < rx_cookies_.size(), "rx slot");
  return rxq.add(segs.data(), static_cast<uint16_t>(segs.size()), &rx_cookies_[slot]);
}

void NetRig::post_rx_all(uint16_t count, uint32_t len) {
  for (uint16_t s = 0; s < count; ++s) require(post_rx(s, len) == vq::DriverStatus::kOk, "post_rx");
  kick_rx();
}

void NetRig::kick_rx() {
  rxq.publish();
  if (rxq.kick_needed()) driver.notify(NetDevice::kRxQueue);
}

std::vector<RxCompletion> NetRig::reap_rx() {
  std::vector<RxCompletion> done;
  vq::UsedBuffer u{};
  while (rxq.get_used(&u) == vq::DriverStatus::kOk) {
    done.push_back({static_cast<uint16_t>(static_cast<uint8_t*>(u.cookie) - rx_cookies_.data()), u.len});
  }
  return done;
}

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
  require(slot < tx_cookies_.size(), "tx slot");
  return txq.add(segs.data(), static_cast<uint16_t>(segs.size()), &tx_cookies_[slot]);
}

void NetRig::kick_tx() {
  txq.publish();
  if (txq.kick_needed()) driver.notify(NetDevice::kTxQueue);
}

std::vector<std::pair<uint16_t, uint32_t>> NetRig::reap_tx() {
  std::vector<std::pair<uint16_t, uint32_t>> done;
  vq::UsedBuffer u{};
  while (txq.get_used(&u) == vq::DriverStatus::kOk) {
    done.emplace_back(static_cast<uint16_t>(static_cast<uint8_t*>(u.cookie) - tx_cookies_.data()), u.len);
  }
  return done;
}

uint16_t NetRig::raw_chain(uint16_t q, std::span<const NetRawDesc> descs, uint16_t first,
                           bool notify_device) {
  require(options_.raw_ring && !descs.empty(), "raw ring");
  auto& rb = raw(q);
  const uint16_t n = rb.size();
  for (size_t i = 0; i < descs.size(); ++i) {
    const auto index = static_cast<uint16_t>((first + i) % n);
    const bool last = i + 1 == descs.size();
    const auto flags = static_cast<uint16_t>(descs[i].flags | (last ? 0 : vq::kDescFNext));
    rb.set_desc(index, descs[i].addr, descs[i].len, flags,
                last ? 0 : static_cast<uint16_t>((index + 1) % n));
  }
  rb.make_available(first);
  if (notify_device) driver.notify(q);
  return first;
}

uint64_t NetRig::raw_table(uint16_t q, std::span<const NetRawDesc> descs) {
  require(options_.raw_ring, "raw ring");
  auto& rb = raw(q);
  const uint64_t table = rb.alloc(16 * descs.size());
  for (size_t i = 0; i < descs.size(); ++i) {
    const bool last = i + 1 == descs.size();
    rb.set_table_entry(table, static_cast<uint16_t>(i),
                       vq::VirtqDesc{descs[i].addr, descs[i].len,
                                     static_cast<uint16_t>(descs[i].flags | (last ? 0 : vq::kDescFNext)),
                                     static_cast<uint16_t>(last ? 0 : i + 1)});
  }
  return table;
}

std::optional<vq::VirtqUsedElem> NetRig::raw_used(uint16_t q, uint16_t position) {
  auto& rb = raw(q);
  const auto ahead = static_cast<uint16_t>(rb.used_idx() - position);
  if (ahead == 0 || ahead > rb.size()) return std::nullopt;
  return rb.used_elem(position);
}

std::vector<uint8_t> NetRig::peek(uint64_t gpa, uint64_t len) const {
  std::vector<uint8_t> out(len);
  require(memory.read(gpa, out.data(), len) == MemError::kOk, "peek outside memory");
  return out;
}

void NetRig::poke(uint64_t gpa, std::span<const uint8_t> bytes) {
  require(memory.write(gpa, bytes.data(), bytes.size()) == MemError::kOk, "poke outside memory");
}

void NetRig::fill(uint64_t gpa, uint8_t byte, uint64_t len) {
  const std::vector<uint8_t> bytes(len, byte);
  poke(gpa, bytes);
}

std::vector<uint8_t> NetRig::read_config(uint32_t offset, uint32_t len) {
  std::vector<uint8_t> out(len);
  require(driver.read_device_config(offset, out.data(), len) == TransportError::kNone, "config read");
  return out;
}

}  // namespace aerov::model::devices::testing
