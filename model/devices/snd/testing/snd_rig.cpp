#include "model/devices/snd/testing/snd_rig.hpp"

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::model::devices::testing {

namespace vq = virtqueue;
using transport::TransportError;

namespace {

void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  for (int i = 0; i < 4; ++i) v[at + i] = static_cast<uint8_t>(x >> (8 * i));
}

uint32_t get32(const std::vector<uint8_t>& v, size_t at) {
  if (v.size() < at + 4) return 0;
  return uint32_t{v[at]} | uint32_t{v[at + 1]} << 8 | uint32_t{v[at + 2]} << 16 | uint32_t{v[at + 3]} << 24;
}

std::vector<uint16_t> slot_counts() {
  std::vector<uint16_t> s;
  for (uint16_t q = 0; q < contract::kSnd.num_queues; ++q) s.push_back(contract::kSnd.queues[q].size);
  return s;
}

}  // namespace

std::vector<uint8_t> snd_pcm_request(uint32_t code, uint32_t stream) {
  std::vector<uint8_t> r(snd::kPcmHdrBytes, 0);
  put32(r, 0, code);
  put32(r, snd::kPcmHdrStreamId, stream);
  return r;
}

std::vector<uint8_t> snd_set_params_request(uint32_t stream, uint32_t buffer_bytes, uint32_t period_bytes,
                                            uint8_t channels, uint8_t format, uint8_t rate,
                                            uint32_t features) {
  std::vector<uint8_t> r(snd::kSetParamsBytes, 0);
  put32(r, 0, snd::kReqPcmSetParams);
  put32(r, snd::kPcmHdrStreamId, stream);
  put32(r, snd::kParamsBufferBytes, buffer_bytes);
  put32(r, snd::kParamsPeriodBytes, period_bytes);
  put32(r, snd::kParamsFeatures, features);
  r[snd::kParamsChannels] = channels;
  r[snd::kParamsFormat] = format;
  r[snd::kParamsRate] = rate;
  return r;
}

std::vector<uint8_t> snd_query_info_request(uint32_t start, uint32_t count, uint32_t size) {
  std::vector<uint8_t> r(snd::kQueryInfoBytes, 0);
  put32(r, 0, snd::kReqPcmInfo);
  put32(r, snd::kQueryStartId, start);
  put32(r, snd::kQueryCount, count);
  put32(r, snd::kQuerySize, size);
  return r;
}

std::vector<uint8_t> snd_pattern(uint32_t frames, uint32_t channels, uint16_t seed) {
  std::vector<uint8_t> p(size_t{frames} * channels * 2);
  for (size_t i = 0; i < p.size() / 2; ++i) {
    const uint16_t v = static_cast<uint16_t>(seed + i * 257u);
    p[2 * i] = static_cast<uint8_t>(v);
    p[2 * i + 1] = static_cast<uint8_t>(v >> 8);
  }
  return p;
}

SndRig::SndRig(const SndRigOptions& o)
    : DriverRig("snd rig", slot_counts()), options_(o),
      tx_len_(contract::kSnd.queues[SndDevice::kTxQueue].size, 0),
      rx_len_(contract::kSnd.queues[SndDevice::kRxQueue].size, 0) {
  device = std::make_unique<SndDevice>(o.sink, o.source);
  plug(*device, transport::contract_identity(contract::kSnd, 0), kBdf);
  if (o.wire_time) device->on_time_pending = [this] { function->process_queue(SndDevice::kTxQueue); };
  if (o.bring_up) require(bring_up() == TransportError::kNone, "bring-up");
}

TransportError SndRig::bring_up() {
  transport::testing::QueuePlan plans[4];
  for (uint16_t q = 0; q < 4; ++q) {
    plans[q].ring_gpa = kRingGpa + q * kRingStride;
    plans[q].raw = options_.raw_ring;
    plans[q].raw_scratch_bytes = kRawScratchBytes;
  }
  return DriverRig::bring_up(contract::kSnd.features_offered, plans);
}

void SndRig::recover() {
  driver.reset();
  if (!options_.raw_ring) {
    for (uint16_t q = 0; q < 4; ++q) detach_unused(q);
  }
  require(bring_up() == TransportError::kNone, "bring-up after reset");
}

CtlReply SndRig::control(std::span<const uint8_t> request, uint32_t resp_len) {
  require(request.size() + resp_len <= kCtlSlotBytes * 2, "control message too long for the rig");
  const uint64_t req_gpa = kCtlBufGpa;
  const uint64_t resp_gpa = kCtlBufGpa + kCtlSlotBytes * 2;
  poke(req_gpa, request);
  fill(resp_gpa, kUnwritten, resp_len);
  std::vector<vq::Segment> segs;
  if (!request.empty()) segs.push_back({req_gpa, static_cast<uint32_t>(request.size()), false});
  if (resp_len != 0) segs.push_back({resp_gpa, resp_len, true});
  CtlReply r;
  if (add_chain(SndDevice::kControlQueue, 0, segs) != vq::DriverStatus::kOk) return r;
  kick(SndDevice::kControlQueue);
  const auto used = take_used(SndDevice::kControlQueue);
  if (used.size() != 1) return r;
  r.completed = true;
  r.used_len = used[0].len;
  r.body = peek(resp_gpa, std::min<uint32_t>(used[0].len, resp_len));
  r.status = get32(r.body, 0);
  return r;
}

CtlReply SndRig::pcm_command(uint32_t code, uint32_t stream) { return control(snd_pcm_request(code, stream)); }

CtlReply SndRig::set_params(uint32_t stream, uint32_t buffer_bytes, uint32_t period_bytes, uint8_t channels,
                            uint8_t format, uint8_t rate, uint32_t features) {
  return control(snd_set_params_request(stream, buffer_bytes, period_bytes, channels, format, rate, features));
}

CtlReply SndRig::set_fixed_params(uint32_t stream, uint32_t buffer_bytes, uint32_t period_bytes) {
  return set_params(stream, buffer_bytes, period_bytes, snd::stream_channels(stream), snd::kFormatS16,
                    snd::kRate48000);
}

CtlReply SndRig::pcm_info(uint32_t start, uint32_t count, uint32_t size, uint32_t resp_len) {
  return control(snd_query_info_request(start, count, size), resp_len);
}

bool SndRig::open_and_start(uint32_t stream) {
  return set_fixed_params(stream).status == snd::kStatusOk &&
         pcm_command(snd::kReqPcmPrepare, stream).status == snd::kStatusOk &&
         pcm_command(snd::kReqPcmStart, stream).status == snd::kStatusOk;
}

void SndRig::post_events(uint16_t count, uint32_t len) {
  for (uint16_t s = 0; s < count; ++s) {
    const vq::Segment seg{kEventBufGpa + 64 * s, len, true};
    require(add_chain(SndDevice::kEventQueue, s, {&seg, 1}) == vq::DriverStatus::kOk, "post event");
  }
  kick(SndDevice::kEventQueue);
}

vq::DriverStatus SndRig::queue_tx(uint16_t slot, std::span<const uint8_t> payload, uint32_t stream) {
  require(kPayloadOffset + payload.size() + 8 <= kSlotBytes, "tx payload too long for a slot");
  std::vector<uint8_t> hdr(8, 0);
  put32(hdr, 0, stream);
  poke(tx_buf(slot), hdr);
  poke(tx_buf(slot) + kPayloadOffset, payload);
  const uint64_t status = tx_buf(slot) + kPayloadOffset + payload.size();
  fill(status, kUnwritten, 8);
  std::vector<vq::Segment> segs{{tx_buf(slot), 8, false}};
  if (!payload.empty()) segs.push_back({tx_buf(slot) + kPayloadOffset, static_cast<uint32_t>(payload.size()), false});
  segs.push_back({status, 8, true});
  tx_len_[slot] = static_cast<uint32_t>(payload.size());
  return add_chain(SndDevice::kTxQueue, slot, segs);
}

vq::DriverStatus SndRig::queue_rx(uint16_t slot, uint32_t payload_len, uint32_t stream) {
  require(kPayloadOffset + payload_len + 8 <= kSlotBytes, "rx payload too long for a slot");
  std::vector<uint8_t> hdr(8, 0);
  put32(hdr, 0, stream);
  poke(rx_buf(slot), hdr);
  fill(rx_buf(slot) + kPayloadOffset, kUnwritten, payload_len + 8);
  std::vector<vq::Segment> segs{{rx_buf(slot), 8, false}};
  if (payload_len != 0) segs.push_back({rx_buf(slot) + kPayloadOffset, payload_len, true});
  segs.push_back({rx_buf(slot) + kPayloadOffset + payload_len, 8, true});
  rx_len_[slot] = payload_len;
  return add_chain(SndDevice::kRxQueue, slot, segs);
}

std::vector<PcmDone> SndRig::reap_pcm(uint16_t q, uint64_t base) {
  std::vector<PcmDone> out;
  const std::vector<uint32_t>& lens = q == SndDevice::kTxQueue ? tx_len_ : rx_len_;
  for (const auto& u : take_used(q)) {
    const auto st = peek(base + kSlotBytes * u.slot + kPayloadOffset + lens[u.slot], 8);
    out.push_back({u.slot, u.len, get32(st, 0), get32(st, 4)});
  }
  return out;
}

std::vector<PcmDone> SndRig::reap_tx() { return reap_pcm(SndDevice::kTxQueue, kTxBufGpa); }
std::vector<PcmDone> SndRig::reap_rx() { return reap_pcm(SndDevice::kRxQueue, kRxBufGpa); }

}  // namespace aerov::model::devices::testing
