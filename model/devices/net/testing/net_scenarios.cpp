#include "model/devices/net/testing/net_scenarios.hpp"

#include <algorithm>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/devices/net/testing/net_rig.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::model::devices::testing {

namespace {

namespace vq = virtqueue;
using transport::TransportError;
using transport::testing::expect;
using transport::testing::hex;
using Bytes = std::vector<uint8_t>;
constexpr uint16_t kRx = NetDevice::kRxQueue;
constexpr uint16_t kTx = NetDevice::kTxQueue;
constexpr uint32_t kHdr = net::kHeaderBytes;
constexpr uint32_t kDeviceCfg = 0x3000;  // BAR-2

std::string num(uint64_t v) { return std::to_string(v); }

// A frame whose payload starts with a 16-bit tag, to tell frames apart.
Bytes tagged_frame(uint32_t len, uint16_t tag) {
  Bytes f = make_frame(len, static_cast<uint8_t>(tag * 7));
  if (len >= 16) {
    f[14] = static_cast<uint8_t>(tag);
    f[15] = static_cast<uint8_t>(tag >> 8);
  }
  return f;
}

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes r = a;
  r.insert(r.end(), b.begin(), b.end());
  return r;
}

Bytes zero_header_then(const Bytes& frame) { return concat(Bytes(kHdr, 0), frame); }

// Sends one frame through the real driver ring; true if it completed with
// used.len 0.
bool send_one(NetRig& rig, uint16_t slot, const Bytes& frame) {
  if (rig.send(slot, frame) != vq::DriverStatus::kOk) return false;
  rig.kick_tx();
  const auto done = rig.reap_tx();
  return done.size() == 1 && done[0].first == slot && done[0].second == 0;
}

NetRig& up(NetRig& rig, Failures& f) {
  expect(f, !rig.needs_reset(), "device needs reset unexpectedly");
  return rig;
}

}  // namespace

Failures check_net_queues() {
  Failures f;
  NetRig rig;
  const contract::DeviceSpec& spec = contract::kNet;
  uint16_t n = 0;
  expect(f, rig.driver.num_queues(&n) == TransportError::kNone && n == spec.num_queues && n == 2,
         "num_queues reads " + num(n) + ", expected 2 (NET-1)");
  for (uint16_t q = 0; q < 2; ++q) {
    uint16_t size = 0;
    expect(f, rig.driver.queue_size(q, &size) == TransportError::kNone && size == spec.queues[q].size &&
                  size == 256,
           std::string(spec.queues[q].name) + " size reads " + num(size) + ", expected 256 (NET-1)");
  }
  expect(f, std::string(spec.queues[0].name) == "rxq" && std::string(spec.queues[1].name) == "txq",
         "contract queue names are not rxq, txq");
  uint16_t size = 0;
  const TransportError e = rig.driver.queue_size(2, &size);
  expect(f, e != TransportError::kNone || size == 0, "a third queue (control queue) exists (NET-1)");
  expect(f, rig.device->queue_size(2) == 0, "device reports a size for queue 2");
  return f;
}

Failures check_net_features() {
  Failures f;
  NetRig rig;
  const contract::DeviceSpec& spec = contract::kNet;
  const uint64_t offered = rig.driver.device_features();
  expect(f, offered == spec.features_offered,
         "device offers " + hex(offered) + ", contract says exactly its offer (NET-2)");
  expect(f, (offered & spec.features_forbidden) == 0, "a never-offered feature is offered (NET-2)");
  using namespace contract;
  for (uint32_t bit : {kFeatureVersion1, kFeatureRingIndirectDesc, kFeatureNetMac, kFeatureNetStatus}) {
    expect(f, (offered & feature_mask(bit)) != 0, "feature bit " + num(bit) + " not offered (NET-2)");
  }
  for (uint32_t bit : {kFeatureNetMrgRxbuf, kFeatureNetCtrlVq, kFeatureNetMq, kFeatureNetCsum,
                       kFeatureNetGuestCsum, kFeatureNetGuestTso4, kFeatureNetGuestTso6,
                       kFeatureNetGuestEcn, kFeatureNetGuestUfo, kFeatureNetHostTso4,
                       kFeatureNetHostTso6, kFeatureNetHostEcn, kFeatureNetHostUfo,
                       kFeatureRingEventIdx, kFeatureRingPacked}) {
    expect(f, (offered & feature_mask(bit)) == 0, "feature bit " + num(bit) + " offered (NET-2)");
  }
  expect(f, rig.features == spec.features_offered, "negotiation did not accept the full offer");
  return f;
}

Failures check_net_config_layout() {
  Failures f;
  NetDeviceOptions o;
  o.mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  NetRig rig(NetRigOptions{.device = o});
  uint8_t image[32] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x01, 0x00, 0x01, 0x00};
  expect(f, rig.read_config(0, 10) == Bytes(image, image + 10),
         "config {mac, status, max_virtqueue_pairs} wrong (NET-3)");
  for (uint32_t off = 0; off < 24; ++off) {
    for (uint8_t width : {1, 2, 4}) {
      if (off % width != 0) continue;
      uint32_t expected = 0;
      for (uint8_t i = 0; i < width; ++i) expected |= uint32_t{image[off + i]} << (8 * i);
      const uint32_t got = rig.bar0_read(kDeviceCfg + off, width);
      expect(f, got == expected, "config +" + num(off) + " width " + num(width) + " reads " + num(got) +
                                     ", expected " + num(expected) + " (NET-3)");
    }
  }
  expect(f, rig.device->config_read(0, 8) == 0x0001'5544'3322'1102ull, "8-byte config read wrong");
  expect(f, rig.device->config_read(6, 8) == 0x0001'0001ull, "8-byte read over the end wrong");
  // Writes are ignored: the MAC is not driver-writable (no CTRL_MAC_ADDR).
  for (uint32_t off = 0; off < 12; off += 2) rig.bar0_write(kDeviceCfg + off, 2, 0xFFFF);
  expect(f, rig.read_config(0, 10) == Bytes(image, image + 10), "config writes changed config (NET-3)");
  return f;
}

Failures check_net_link_status() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  rig.post_rx_all(4);
  rig.driver.read_isr();
  const uint8_t gen0 = rig.function->config_generation();
  rig.device->set_link_up(false);
  expect(f, rig.function->config_generation() != gen0, "link change did not bump config_generation (CFG-4)");
  expect(f, (rig.driver.read_isr() & 0x2) != 0, "link change raised no config interrupt (IRQ-3)");
  expect(f, rig.read_config(net::kConfigStatus, 2) == Bytes{0, 0}, "status still LINK_UP (NET-3)");
  expect(f, send_one(rig, 0, make_frame(60)), "TX chain while link down not completed with len 0");
  expect(f, peer.sent.empty() && rig.device->stats().tx_link_down == 1, "TX while link down not dropped");
  peer.inject(make_frame(60));
  expect(f, rig.reap_rx().empty() && rig.device->stats().rx_link_down == 1, "RX while link down not dropped");
  const uint8_t gen1 = rig.function->config_generation();
  rig.device->set_link_up(true);
  expect(f, rig.function->config_generation() != gen1, "link up did not bump config_generation (CFG-4)");
  expect(f, rig.read_config(net::kConfigStatus, 2) == Bytes{1, 0}, "status not LINK_UP again (NET-3)");
  expect(f, send_one(rig, 1, make_frame(60)) && peer.sent.size() == 1, "TX after link up failed");
  peer.inject(make_frame(60));
  expect(f, rig.reap_rx().size() == 1, "RX after link up failed");
  up(rig, f);
  return f;
}

Failures check_net_header() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  rig.post_rx_all(1);
  const Bytes frame = make_frame(100, 3);
  peer.inject(frame);
  const auto done = rig.reap_rx();
  expect(f, done.size() == 1 && done[0].len == kHdr + 100, "RX completion missing or wrong length");
  if (done.size() == 1) {
    expect(f, rig.rx_header(done[0]) == Bytes(kHdr, 0), "RX header not zeroed (NET-4)");
    expect(f, rig.rx_frame(done[0]) == frame, "RX frame bytes differ");
  }
  // A TX header full of junk is ignored, not interpreted (no GSO, no csum).
  rig.fill(rig.tx_buf(0), 0, kHdr);
  const Bytes junk = {0x01, 0x04, 0xFF, 0xFF, 0x10, 0x00, 0x20, 0x00, 0x30, 0x00};
  rig.poke(rig.tx_buf(0), junk);
  rig.poke(rig.tx_buf(0) + NetRig::kTxFrameOffset, frame);
  const vq::Segment segs[2] = {{rig.tx_buf(0), kHdr, false},
                               {rig.tx_buf(0) + NetRig::kTxFrameOffset, 100, false}};
  rig.send_segments(0, segs);
  rig.kick_tx();
  const auto tx = rig.reap_tx();
  expect(f, tx.size() == 1 && tx[0].second == 0, "TX with non-zero header not completed with len 0");
  expect(f, peer.sent.size() == 1 && peer.sent[0] == frame, "TX with non-zero header not sent as is (NET-4)");
  up(rig, f);
  return f;
}

Failures check_net_frame_bounds() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  uint16_t slot = 0;
  for (uint32_t len : {14u, 1522u, 13u, 1523u}) {
    const bool ok = len >= 14 && len <= 1522;
    const size_t before = peer.sent.size();
    expect(f, send_one(rig, slot++, make_frame(len, 1)), "TX " + num(len) + " not completed with len 0");
    expect(f, (peer.sent.size() == before + 1) == ok,
           "TX frame of " + num(len) + " bytes " + (ok ? "not sent" : "sent") + " (NET-5)");
  }
  expect(f, rig.device->stats().tx_runt == 1 && rig.device->stats().tx_oversize == 1,
         "TX drops not counted as runt/oversize");
  rig.post_rx_all(4);
  for (uint32_t len : {14u, 1522u, 13u, 1523u}) {
    const bool ok = len >= 14 && len <= 1522;
    const bool queued = rig.device->deliver(make_frame(len, 2));
    expect(f, queued == ok, "RX deliver of " + num(len) + " bytes " + (ok ? "refused" : "accepted") + " (NET-5)");
  }
  const auto done = rig.reap_rx();
  expect(f, done.size() == 2 && done[0].len == kHdr + 14 && done[1].len == kHdr + 1522,
         "RX of 14 and 1522-byte frames wrong (NET-5)");
  expect(f, rig.device->stats().rx_bad_length == 2, "refused RX frames not counted");
  up(rig, f);
  return f;
}

Failures check_net_tx() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  std::vector<Bytes> frames;
  for (uint16_t i = 0; i < 40; ++i) {
    frames.push_back(tagged_frame(14 + (i * 97) % 1509, i));
    expect(f, rig.send(i, frames.back()) == vq::DriverStatus::kOk, "driver refused TX");
  }
  rig.kick_tx();
  const auto done = rig.reap_tx();
  expect(f, done.size() == 40, "TX completions: " + num(done.size()) + " of 40");
  for (const auto& [slot, len] : done) expect(f, len == 0, "TX used.len " + num(len) + " not 0 (NET-6)");
  expect(f, peer.sent == frames, "transmitted frames differ from what the guest sent (NET-6)");
  // The same frame split arbitrarily: header 3+7, frame over three pieces
  // one of them above 4 GiB; and header and frame in one descriptor.
  const Bytes frame = tagged_frame(300, 77);
  const Bytes stream = zero_header_then(frame);
  const uint64_t a = NetRig::kDataGpa, b = NetRig::kDataGpa + 0x1000, c = NetRig::kHighRam + 0x123;
  rig.poke(a, Bytes(stream.begin(), stream.begin() + 3));
  rig.poke(b, Bytes(stream.begin() + 3, stream.begin() + 50));
  rig.poke(c, Bytes(stream.begin() + 50, stream.end()));
  const vq::Segment split[3] = {{a, 3, false}, {b, 47, false}, {c, static_cast<uint32_t>(stream.size() - 50), false}};
  rig.send_segments(0, split);
  rig.poke(NetRig::kDataGpa + 0x4001, stream);
  const vq::Segment whole{NetRig::kDataGpa + 0x4001, static_cast<uint32_t>(stream.size()), false};
  rig.send_segments(1, {&whole, 1});
  rig.kick_tx();
  const auto done2 = rig.reap_tx();
  expect(f, done2.size() == 2 && done2[0].second == 0 && done2[1].second == 0, "split TX chains not completed");
  expect(f, peer.sent.size() == 42 && peer.sent[40] == frame && peer.sent[41] == frame,
         "split TX frames differ (NET-6)");
  expect(f, rig.device->stats().tx_frames == 42, "tx_frames count wrong");
  up(rig, f);
  return f;
}

Failures check_net_tx_drops() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  const Bytes good = make_frame(60);
  // runt, oversize
  expect(f, send_one(rig, 0, make_frame(13)), "runt not completed with len 0");
  expect(f, send_one(rig, 1, make_frame(1523)), "oversize not completed with len 0");
  // a WRITE descriptor after a well-formed frame
  rig.send(2, good);
  {
    const vq::Segment segs[3] = {{rig.tx_buf(2), kHdr, false},
                                 {rig.tx_buf(2) + NetRig::kTxFrameOffset, 60, false},
                                 {NetRig::kDataGpa, 16, true}};
    rig.send_segments(3, segs);
    rig.kick_tx();
  }
  // a header shorter than 10 bytes (and nothing else)
  {
    const vq::Segment seg{rig.tx_buf(4), 8, false};
    rig.send_segments(4, {&seg, 1});
    rig.kick_tx();
  }
  const auto done = rig.reap_tx();
  expect(f, done.size() == 3, "TX completions after drops: " + num(done.size()) + ", expected 3");
  for (const auto& d : done) expect(f, d.second == 0, "dropped TX chain completed with len != 0 (NET-6)");
  const NetStats& s = rig.device->stats();
  expect(f, s.tx_runt == 1 && s.tx_oversize == 1 && s.tx_writable == 1 && s.tx_short_header == 1,
         "drop counters runt/oversize/writable/short = " + num(s.tx_runt) + "/" + num(s.tx_oversize) + "/" +
             num(s.tx_writable) + "/" + num(s.tx_short_header));
  expect(f, peer.sent.size() == 1 && peer.sent[0] == good, "only the well-formed frame (slot 2) may be sent");
  expect(f, send_one(rig, 5, good) && peer.sent.size() == 2, "device stopped transmitting after drops");
  up(rig, f);
  return f;
}

Failures check_net_rx() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  rig.post_rx_all(8);
  std::vector<Bytes> frames;
  for (uint16_t i = 0; i < 6; ++i) {
    frames.push_back(tagged_frame(14 + i * 300, i));
    peer.inject(frames.back());
  }
  const auto done = rig.reap_rx();
  expect(f, done.size() == 6, "RX completions: " + num(done.size()) + " of 6 (NET-7)");
  for (size_t i = 0; i < done.size(); ++i) {
    expect(f, done[i].slot == i, "RX chains not used in posting order");
    expect(f, done[i].len == kHdr + frames[i].size(), "RX used.len " + num(done[i].len) + " != 10 + frame (NET-7)");
    expect(f, rig.rx_header(done[i]) == Bytes(kHdr, 0) && rig.rx_frame(done[i]) == frames[i],
           "RX bytes differ for frame " + num(i) + " (NET-7)");
    expect(f, rig.peek(rig.rx_buf(done[i].slot) + done[i].len, 1)[0] == NetRig::kUnwritten,
           "device wrote past header + frame");
  }
  // Scattered over three writable descriptors, one above 4 GiB.
  const uint64_t a = NetRig::kDataGpa, b = NetRig::kHighRam + 0x777, c = NetRig::kDataGpa + 0x3000;
  for (uint64_t g : {a, b, c}) rig.fill(g, NetRig::kUnwritten, 2048);
  const vq::Segment segs[3] = {{a, 4, true}, {b, 20, true}, {c, 2000, true}};
  rig.post_rx_segments(100, segs);
  rig.kick_rx();
  // Two chains from post_rx_all are still posted ahead of it.
  const Bytes f1 = tagged_frame(200, 1), f2 = tagged_frame(201, 2), f3 = tagged_frame(700, 3);
  peer.inject(f1);
  peer.inject(f2);
  peer.inject(f3);
  const auto more = rig.reap_rx();
  expect(f, more.size() == 3 && more[2].slot == 100 && more[2].len == kHdr + 700,
         "scattered RX chain not used for the third frame (NET-7)");
  Bytes got = rig.peek(a, 4);
  for (const Bytes& part : {rig.peek(b, 20), rig.peek(c, kHdr + 700 - 24)}) got.insert(got.end(), part.begin(), part.end());
  expect(f, got == zero_header_then(f3), "scattered RX bytes differ (NET-7)");
  expect(f, rig.device->stats().rx_frames == 9, "rx_frames count wrong");
  up(rig, f);
  return f;
}

Failures check_net_rx_too_small() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  rig.post_rx(0, kHdr + 60);
  rig.kick_rx();
  peer.inject(make_frame(61, 1));  // one byte too many
  expect(f, rig.reap_rx().empty(), "too-small chain was completed (NET-7: it stays posted)");
  expect(f, rig.device->stats().rx_too_small == 1, "too-small drop not counted");
  expect(f, rig.device->host_queue_frames() == 0, "dropped frame still queued");
  expect(f, rig.rxq.num_outstanding() == 1, "driver lost its posted chain");
  const Bytes fits = make_frame(60, 2);
  peer.inject(fits);
  const auto done = rig.reap_rx();
  expect(f, done.size() == 1 && done[0].slot == 0 && done[0].len == kHdr + 60 && rig.rx_frame(done[0]) == fits,
         "the kept chain did not take the next frame that fits (NET-7)");
  // The dropped frame never shows up later.
  rig.post_rx_all(1);
  expect(f, rig.reap_rx().empty(), "dropped frame delivered later");
  up(rig, f);
  return f;
}

Failures check_net_rx_host_queue() {
  Failures f;
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  constexpr uint16_t kFrames = 300;
  for (uint16_t i = 0; i < kFrames; ++i) peer.inject(tagged_frame(64, i));
  const size_t cap = NetDevice::kHostQueueFrames;
  expect(f, cap == 256, "host queue cap is not the contract's 256 (NET-7)");
  expect(f, rig.device->host_queue_frames() == cap, "host queue holds " + num(rig.device->host_queue_frames()));
  expect(f, rig.device->stats().rx_overflow == kFrames - cap, "overflow drops counted " +
                                                                  num(rig.device->stats().rx_overflow));
  rig.post_rx_all(256);
  const auto done = rig.reap_rx();
  expect(f, done.size() == cap, "RX completions after posting: " + num(done.size()));
  for (size_t i = 0; i < done.size(); ++i) {
    if (rig.rx_frame(done[i]) != tagged_frame(64, static_cast<uint16_t>(kFrames - cap + i))) {
      expect(f, false, "frame " + num(i) + " is not the " + num(kFrames - cap + i) + "th sent (oldest must go)");
      break;
    }
  }
  up(rig, f);
  return f;
}

Failures check_net_loopback() {
  Failures f;
  backends::LoopbackPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  rig.post_rx_all(8);
  std::vector<Bytes> frames;
  for (uint16_t i = 0; i < 5; ++i) {
    frames.push_back(tagged_frame(60 + i, i));
    rig.send(i, frames.back());
  }
  rig.kick_tx();
  expect(f, rig.reap_tx().size() == 5, "loopback TX not all completed");
  const auto done = rig.reap_rx();
  expect(f, done.size() == 5, "loopback RX: " + num(done.size()) + " of 5");
  for (size_t i = 0; i < done.size(); ++i) {
    expect(f, rig.rx_frame(done[i]) == frames[i], "loopback frame " + num(i) + " differs");
  }
  up(rig, f);
  return f;
}

Failures check_net_ring_corruption_recovery() {
  Failures f;
  RecordingPeer peer;
  for (uint16_t q : {kTx, kRx}) {
    NetRig rig(NetRigOptions{.backend = &peer});
    const std::string name = q == kTx ? "txq" : "rxq";
    // rxq chains are taken only while a frame waits: queue one first.
    if (q == kRx) peer.inject(make_frame(60));
    const uint64_t avail_idx = (q == kTx ? rig.txq.avail_pa() : rig.rxq.avail_pa()) + 2;
    const uint16_t bogus = 300;  // more than N ahead of the device (VQ-8)
    rig.memory.write_obj(avail_idx, bogus);
    rig.notify(q);
    expect(f, rig.needs_reset(), name + " corruption did not set DEVICE_NEEDS_RESET (STAT-4)");
    const size_t sent = peer.sent.size();
    rig.recover();
    expect(f, !rig.needs_reset(), name + ": still needs reset after recovery");
    rig.post_rx_all(2);
    expect(f, send_one(rig, 0, make_frame(60)) && peer.sent.size() == sent + 1, name + ": TX dead after recovery");
    peer.inject(make_frame(70));
    const auto done = rig.reap_rx();
    expect(f, done.size() == 1 && done[0].len == kHdr + 70, name + ": RX dead after recovery");
  }
  return f;
}

// ---- hostile guests on raw rings -----------------------------------------

namespace {

using Raw = NetRawDesc;
constexpr uint16_t W = vq::kDescFWrite;
constexpr uint64_t kBuf = NetRig::kDataGpa;          // TX stream / RX buffers
constexpr uint64_t kNowhere = 0xF000'0000'0000ull;   // outside guest memory

struct Hostile {
  RecordingPeer peer;
  NetRig rig;
  uint16_t next_used[2] = {0, 0};
  Hostile() : rig(NetRigOptions{.backend = &peer, .raw_ring = true}) {}

  // The next used element on q, if the device published one.
  std::optional<vq::VirtqUsedElem> used(uint16_t q) {
    auto e = rig.raw_used(q, next_used[q]);
    if (e) ++next_used[q];
    return e;
  }
  // Writes header + frame as one readable stream at gpa.
  void stage_tx(uint64_t gpa, const Bytes& frame) { rig.poke(gpa, zero_header_then(frame)); }
};

void expect_used(Failures& f, Hostile& h, uint16_t q, uint16_t head, uint32_t len, const std::string& what) {
  const auto e = h.used(q);
  expect(f, e.has_value() && e->id == head && e->len == len,
         what + ": expected used {" + num(head) + ", " + num(len) + "}, got " +
             (e ? "{" + num(e->id) + ", " + num(e->len) + "}" : "nothing"));
}

// After a hostile case: a good TX chain is sent and a good RX chain filled.
void keeps_working(Failures& f, Hostile& h) {
  const Bytes frame = tagged_frame(90, 0xBEEF);
  const size_t sent = h.peer.sent.size();
  h.stage_tx(kBuf + 0x10000, frame);
  const Raw tx[1] = {{kBuf + 0x10000, kHdr + 90, 0}};
  h.rig.raw_chain(kTx, tx, 200);
  expect_used(f, h, kTx, 200, 0, "good TX after the case");
  expect(f, h.peer.sent.size() == sent + 1 && h.peer.sent.back() == frame, "device stopped transmitting");
  h.rig.fill(kBuf + 0x20000, NetRig::kUnwritten, 2048);
  const Raw rx[1] = {{kBuf + 0x20000, 2048, W}};
  h.rig.raw_chain(kRx, rx, 200);
  h.peer.inject(frame);
  expect_used(f, h, kRx, 200, kHdr + 90, "good RX after the case");
  expect(f, h.rig.peek(kBuf + 0x20000, kHdr + 90) == zero_header_then(frame), "device stopped receiving");
  expect(f, !h.rig.needs_reset(), "hostile chain escalated to DEVICE_NEEDS_RESET (VQ-7 says chain error)");
}

NetHostileCase tx_case(std::string name, std::vector<std::string> rules, std::vector<Raw> descs,
                       uint64_t NetStats::*counter, bool sent) {
  return {std::move(name), std::move(rules), [descs, counter, sent] {
            Failures f;
            Hostile h;
            const Bytes frame = make_frame(60, 9);
            h.stage_tx(kBuf, frame);  // descs point into this stream
            h.rig.raw_chain(kTx, descs, 0);
            expect_used(f, h, kTx, 0, 0, "TX chain");
            expect(f, h.rig.device->stats().*counter == 1, "drop/send counter is not 1");
            expect(f, h.peer.sent.size() == (sent ? 1u : 0u), sent ? "frame not sent" : "frame sent");
            if (sent && !h.peer.sent.empty()) expect(f, h.peer.sent[0] == frame, "sent frame differs");
            keeps_working(f, h);
            return f;
          }};
}

// An RX case: a frame of `frame_len` waits, `descs` is posted; expect the
// used entry {0, used_len} (or none) and the counter at 1; if the frame
// was not consumed, the next good chain must get it.
NetHostileCase rx_case(std::string name, std::vector<std::string> rules, std::vector<Raw> descs,
                       uint64_t NetStats::*counter, std::optional<uint32_t> used_len, bool frame_consumed) {
  return {std::move(name), std::move(rules), [descs, counter, used_len, frame_consumed] {
            Failures f;
            Hostile h;
            h.rig.fill(kBuf, NetRig::kUnwritten, 0x8000);
            const Bytes frame = make_frame(60, 5);
            h.peer.inject(frame);
            h.rig.raw_chain(kRx, descs, 0);
            if (used_len) {
              expect_used(f, h, kRx, 0, *used_len, "RX chain");
            } else {
              expect(f, !h.used(kRx).has_value(), "RX chain was completed, expected it kept posted");
            }
            expect(f, h.rig.device->stats().*counter == 1, "counter is not 1");
            if (!frame_consumed) {
              const Raw good[1] = {{kBuf + 0x4000, 2048, W}};
              h.rig.raw_chain(kRx, good, 100);
              if (!used_len) {
                // The kept chain is still first in line: it takes the next frame.
                expect(f, !h.used(kRx).has_value(), "kept chain skipped");
              } else {
                expect_used(f, h, kRx, 100, kHdr + 60, "waiting frame into the next chain");
                expect(f, h.rig.peek(kBuf + 0x4000, kHdr + 60) == zero_header_then(frame), "waiting frame bytes");
              }
            }
            if (used_len) keeps_working(f, h);
            return f;
          }};
}

}  // namespace

std::vector<NetHostileCase> net_hostile_cases() {
  std::vector<NetHostileCase> c;
  const uint64_t s = kBuf;  // header at s, frame at s + 10
  c.push_back(tx_case("net.hostile.tx-writable-descriptor", {"NET-6"},
                      {{s, kHdr, 0}, {s + kHdr, 60, 0}, {kBuf + 0x8000, 16, W}}, &NetStats::tx_writable, false));
  c.push_back(tx_case("net.hostile.tx-zero-length-writable", {"NET-6", "VQ-7"},
                      {{s, kHdr + 60, 0}, {kNowhere, 0, W}}, &NetStats::tx_writable, false));
  c.push_back(tx_case("net.hostile.tx-zero-length-readable", {"NET-6", "VQ-7"},
                      {{s, kHdr, 0}, {kNowhere, 0, 0}, {s + kHdr, 60, 0}}, &NetStats::tx_frames, true));
  c.push_back(tx_case("net.hostile.tx-header-short", {"NET-6", "NET-4"}, {{s, 8, 0}},
                      &NetStats::tx_short_header, false));
  c.push_back(tx_case("net.hostile.tx-header-split", {"NET-6", "NET-4"},
                      {{s, 4, 0}, {s + 4, 6, 0}, {s + kHdr, 30, 0}, {s + kHdr + 30, 30, 0}},
                      &NetStats::tx_frames, true));
  c.push_back(tx_case("net.hostile.tx-runt", {"NET-6", "NET-5"}, {{s, kHdr + 13, 0}}, &NetStats::tx_runt, false));
  c.push_back(tx_case("net.hostile.tx-oversize", {"NET-6", "NET-5"}, {{s, kHdr + 1523, 0}},
                      &NetStats::tx_oversize, false));
  // 64 MiB claimed: rejected by length before a byte is copied.
  c.push_back(tx_case("net.hostile.tx-huge", {"NET-6", "NET-5"},
                      {{NetRig::kHighRam, 32u << 20, 0}, {NetRig::kHighRam + (32u << 20), 32u << 20, 0}},
                      &NetStats::tx_oversize, false));
  c.push_back(tx_case("net.hostile.tx-outside-memory", {"NET-6", "VQ-7"}, {{s, kHdr, 0}, {kNowhere, 60, 0}},
                      &NetStats::tx_chain_error, false));
  c.push_back(tx_case("net.hostile.tx-writable-then-readable", {"NET-6", "VQ-7"},
                      {{s, kHdr, W}, {s + kHdr, 60, 0}}, &NetStats::tx_chain_error, false));
  c.push_back(rx_case("net.hostile.rx-readable-descriptor", {"NET-7", "VQ-7"}, {{kBuf, 2048, 0}},
                      &NetStats::rx_readable, 0u, false));
  c.push_back(rx_case("net.hostile.rx-zero-length-readable", {"NET-7", "VQ-7"},
                      {{kNowhere, 0, 0}, {kBuf, 2048, W}}, &NetStats::rx_readable, 0u, false));
  c.push_back(rx_case("net.hostile.rx-zero-length-writable", {"NET-7", "VQ-7"},
                      {{kNowhere, 0, W}, {kBuf, 2048, W}}, &NetStats::rx_frames, kHdr + 60, true));
  c.push_back(rx_case("net.hostile.rx-outside-memory", {"NET-7", "VQ-7"}, {{kNowhere, 2048, W}},
                      &NetStats::rx_chain_error, 0u, false));
  c.push_back(rx_case("net.hostile.rx-too-small", {"NET-7"}, {{kBuf, kHdr + 59, W}},
                      &NetStats::rx_too_small, std::nullopt, true));
  c.push_back(rx_case("net.hostile.rx-header-only", {"NET-7"}, {{kBuf, kHdr, W}},
                      &NetStats::rx_too_small, std::nullopt, true));
  // A chain that loops on itself (desc 0 -> 0).
  c.push_back({"net.hostile.tx-loop", {"NET-6", "VQ-7"}, [] {
                 Failures f;
                 Hostile h;
                 h.rig.raw(kTx).set_desc(0, kBuf, kHdr + 60, vq::kDescFNext, 0);
                 h.rig.raw(kTx).make_available(0);
                 h.rig.notify(kTx);
                 expect_used(f, h, kTx, 0, 0, "looping TX chain");
                 expect(f, h.rig.device->stats().tx_chain_error == 1, "tx_chain_error not 1");
                 keeps_working(f, h);
                 return f;
               }});
  c.push_back({"net.hostile.rx-loop", {"NET-7", "VQ-7"}, [] {
                 Failures f;
                 Hostile h;
                 h.peer.inject(make_frame(60));
                 h.rig.raw(kRx).set_desc(0, kBuf, 2048, W | vq::kDescFNext, 0);
                 h.rig.raw(kRx).make_available(0);
                 h.rig.notify(kRx);
                 expect_used(f, h, kRx, 0, 0, "looping RX chain");
                 expect(f, h.rig.device->stats().rx_chain_error == 1, "rx_chain_error not 1");
                 return f;
               }});
  // Indirect RX chain: scattered entries through a table.
  c.push_back({"net.hostile.rx-indirect", {"NET-7", "VQ-4"}, [] {
                 Failures f;
                 Hostile h;
                 h.rig.fill(kBuf, NetRig::kUnwritten, 0x100);
                 const Raw entries[2] = {{kBuf, 5, W}, {kBuf + 5, 200, W}};
                 const uint64_t table = h.rig.raw_table(kRx, entries);
                 const Raw head[1] = {{table, 32, vq::kDescFIndirect}};
                 h.rig.raw_chain(kRx, head, 0);
                 const Bytes frame = make_frame(100, 4);
                 h.peer.inject(frame);
                 expect_used(f, h, kRx, 0, kHdr + 100, "indirect RX chain");
                 expect(f, h.rig.peek(kBuf, kHdr + 100) == zero_header_then(frame), "indirect RX bytes");
                 keeps_working(f, h);
                 return f;
               }});
  return c;
}

}  // namespace aerov::model::devices::testing
