#include "model/devices/snd/testing/snd_scenarios.hpp"

#include <optional>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/devices/snd/testing/snd_rig.hpp"

namespace aerov::model::devices::testing {

namespace {

namespace vq = virtqueue;
using transport::TransportError;
using transport::testing::expect;
using transport::testing::hex;
using Bytes = std::vector<uint8_t>;
constexpr uint16_t kCtl = SndDevice::kControlQueue;
constexpr uint16_t kEvt = SndDevice::kEventQueue;
constexpr uint16_t kTx = SndDevice::kTxQueue;
constexpr uint16_t kRx = SndDevice::kRxQueue;
constexpr uint32_t kOk = snd::kStatusOk;
constexpr uint32_t kBadMsg = snd::kStatusBadMsg;
constexpr uint32_t kNotSupp = snd::kStatusNotSupp;
constexpr uint32_t kIoErr = snd::kStatusIoErr;
constexpr uint32_t kDeviceCfg = 0x3000;  // BAR-2
constexpr uint32_t kTxFrame = 4;         // bytes per playback frame (SND-3)
constexpr uint32_t kRxFrame = 2;

std::string num(uint64_t v) { return std::to_string(v); }

uint64_t get_le(const Bytes& b, size_t at, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n && at + i < b.size(); ++i) v |= uint64_t{b[at + i]} << (8 * i);
  return v;
}

void expect_status(Failures& f, const CtlReply& r, uint32_t status, const std::string& what) {
  expect(f, r.completed && r.status == status && r.used_len >= 4,
         what + ": expected status " + hex(status) + ", got " + (r.completed ? hex(r.status) : "no completion") +
             " (used.len " + num(r.used_len) + ")");
}

// A capture source that counts up, so tests can tell each captured byte.
class CountingSource final : public backends::CaptureSource {
 public:
  void read(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = static_cast<uint8_t>(next++ * 13 + 1);
  }
  uint64_t next = 0;
  Bytes expected(uint64_t from, uint64_t len) const {
    Bytes e(len);
    for (uint64_t i = 0; i < len; ++i) e[i] = static_cast<uint8_t>((from + i) * 13 + 1);
    return e;
  }
};

}  // namespace

Failures check_snd_queues() {
  Failures f;
  SndRig rig;
  const contract::DeviceSpec& spec = contract::kSnd;
  uint16_t n = 0;
  expect(f, rig.driver.num_queues(&n) == TransportError::kNone && n == 4,
         "num_queues reads " + num(n) + ", expected 4");
  const uint16_t sizes[4] = {64, 64, 256, 64};
  for (uint16_t q = 0; q < 4; ++q) {
    uint16_t size = 0;
    expect(f, rig.driver.queue_size(q, &size) == TransportError::kNone && size == sizes[q] &&
                  size == spec.queues[q].size,
           "queue " + num(q) + " size reads " + num(size) + ", expected " + num(sizes[q]));
  }
  uint16_t size = 0;
  const TransportError e = rig.driver.queue_size(4, &size);
  expect(f, e != TransportError::kNone || size == 0, "a fifth queue exists");
  const uint64_t want = (uint64_t{1} << 32) | (uint64_t{1} << 28);
  expect(f, rig.device->device_features() == want, "features offered " + hex(rig.device->device_features()) +
                                                        ", expected VERSION_1 | INDIRECT_DESC");
  expect(f, rig.features == want, "negotiated " + hex(rig.features));
  expect(f, rig.device->device_type() == 25, "device type is not 25");
  return f;
}

Failures check_snd_config() {
  Failures f;
  SndRig rig;
  const Bytes cfg = rig.read_config(0, 16);
  expect(f, get_le(cfg, 0, 4) == 0, "jacks is " + num(get_le(cfg, 0, 4)));
  expect(f, get_le(cfg, 4, 4) == 2, "streams is " + num(get_le(cfg, 4, 4)));
  expect(f, get_le(cfg, 8, 4) == 0, "chmaps is " + num(get_le(cfg, 8, 4)));
  expect(f, get_le(cfg, 12, 4) == 0, "bytes after chmaps are not zero");
  for (unsigned w : {1u, 2u, 4u}) {
    expect(f, rig.bar0_read(kDeviceCfg + 4, static_cast<uint8_t>(w)) == 2, "streams at width " + num(w));
  }
  expect(f, rig.bar0_read(kDeviceCfg + 5, 1) == 0, "streams high byte");
  rig.bar0_write(kDeviceCfg + 4, 4, 7);
  rig.bar0_write(kDeviceCfg + 0, 4, 9);
  expect(f, rig.bar0_read(kDeviceCfg + 4, 4) == 2 && rig.bar0_read(kDeviceCfg, 4) == 0, "config writes not ignored");
  return f;
}

Failures check_snd_pcm_info() {
  Failures f;
  SndRig rig;
  const CtlReply r = rig.pcm_info(0, 2, 32, 4 + 64);
  expect_status(f, r, kOk, "PCM_INFO 0..1");
  expect(f, r.used_len == 4 + 64, "PCM_INFO used.len " + num(r.used_len) + ", expected 68");
  for (uint32_t s = 0; s < 2 && r.body.size() == 68; ++s) {
    const size_t at = 4 + 32 * s;
    const std::string who = "stream " + num(s) + ": ";
    expect(f, get_le(r.body, at, 4) == 0 && get_le(r.body, at + 4, 4) == 0, who + "nid/features not 0");
    expect(f, get_le(r.body, at + 8, 8) == (1u << 5),
           who + "formats " + hex(get_le(r.body, at + 8, 8)) + ", expected S16 only");
    expect(f, get_le(r.body, at + 16, 8) == (1u << 7),
           who + "rates " + hex(get_le(r.body, at + 16, 8)) + ", expected 48000 only");
    expect(f, r.body[at + 24] == s, who + "direction " + num(r.body[at + 24]));
    const uint8_t ch = s == 0 ? 2 : 1;
    expect(f, r.body[at + 25] == ch && r.body[at + 26] == ch,
           who + "channels " + num(r.body[at + 25]) + ".." + num(r.body[at + 26]));
    expect(f, get_le(r.body, at + 27, 5) == 0, who + "padding not zero");
  }
  const CtlReply one = rig.pcm_info(1, 1, 32, 4 + 32);
  expect_status(f, one, kOk, "PCM_INFO 1");
  expect(f, one.body.size() == 36 && one.body[4 + 24] == 1 && one.body[4 + 25] == 1, "PCM_INFO 1 describes stream 1");
  expect_status(f, rig.pcm_info(0, 0, 32, 4), kOk, "PCM_INFO count 0");
  expect_status(f, rig.pcm_info(1, 2, 32, 4 + 64), kBadMsg, "PCM_INFO past stream 1");
  expect_status(f, rig.pcm_info(2, 1, 32, 4 + 32), kBadMsg, "PCM_INFO start 2");
  expect_status(f, rig.pcm_info(0xFFFFFFFF, 2, 32, 4 + 64), kBadMsg, "PCM_INFO start wrapping");
  expect_status(f, rig.pcm_info(0, 1, 16, 4 + 32), kBadMsg, "PCM_INFO size 16");
  expect_status(f, rig.pcm_info(0, 2, 32, 4 + 40), kBadMsg, "PCM_INFO response place too small");
  return f;
}

Failures check_snd_set_params() {
  Failures f;
  for (uint32_t s = 0; s < 2; ++s) {
    SndRig rig;
    const uint8_t ch = snd::stream_channels(s);
    const std::string who = "stream " + num(s) + " ";
    expect_status(f, rig.set_params(s, 0x4000, 0x1000, ch, 5, 7), kOk, who + "fixed params");
    expect_status(f, rig.set_params(s, 0x4000, 0x1000, ch + 1, 5, 7), kNotSupp, who + "other channels");
    expect_status(f, rig.set_params(s, 0x4000, 0x1000, ch, 6, 7), kNotSupp, who + "U16");
    expect_status(f, rig.set_params(s, 0x4000, 0x1000, ch, 5, 6), kNotSupp, who + "44100");
    expect_status(f, rig.set_params(s, 0x4000, 0x1000, ch, 5, 7, 1), kNotSupp, who + "features");
    expect_status(f, rig.set_params(s, 0x4000, 0, ch, 5, 7), kBadMsg, who + "period 0");
    expect_status(f, rig.set_params(s, 0x4000, 0x1001, ch, 5, 7), kBadMsg, who + "period not whole frames");
    expect_status(f, rig.set_params(s, 0x4800, 0x1000, ch, 5, 7), kBadMsg, who + "buffer not whole periods");
    expect_status(f, rig.set_params(s, 0, 0x1000, ch, 5, 7), kBadMsg, who + "buffer 0");
    expect_status(f, rig.set_params(s, 0x80000, 0x40004, ch, 5, 7), kBadMsg, who + "period over 262144");
    expect_status(f, rig.set_params(2, 0x4000, 0x1000, ch, 5, 7), kBadMsg, "stream 2");
    expect(f, rig.device->state(s) == PcmState::kParamsSet, who + "state after rejected params changed");
  }
  return f;
}

namespace {

const uint32_t kCodes[5] = {snd::kReqPcmSetParams, snd::kReqPcmPrepare, snd::kReqPcmStart, snd::kReqPcmStop,
                            snd::kReqPcmRelease};

// The oracle, written from virtio's lifecycle independently of the device:
// for each state (idle, params-set, prepared, running, stopped, released)
// which of SET_PARAMS, PREPARE, START, STOP, RELEASE are allowed.
const bool kAllowed[6][5] = {
    {true, false, false, false, false},  // idle
    {true, true, false, false, false},   // params-set
    {true, true, true, false, true},     // prepared
    {false, false, false, true, false},  // running
    {false, false, true, false, true},   // stopped
    {true, true, false, false, false},   // released
};
const PcmState kAfter[5] = {PcmState::kParamsSet, PcmState::kPrepared, PcmState::kRunning, PcmState::kStopped,
                            PcmState::kReleased};

// The requests that lead from idle to each state.
std::vector<uint32_t> path_to(int state) {
  switch (state) {
    case 0: return {};
    case 1: return {snd::kReqPcmSetParams};
    case 2: return {snd::kReqPcmSetParams, snd::kReqPcmPrepare};
    case 3: return {snd::kReqPcmSetParams, snd::kReqPcmPrepare, snd::kReqPcmStart};
    case 4: return {snd::kReqPcmSetParams, snd::kReqPcmPrepare, snd::kReqPcmStart, snd::kReqPcmStop};
    default: return {snd::kReqPcmSetParams, snd::kReqPcmPrepare, snd::kReqPcmRelease};
  }
}

CtlReply send_code(SndRig& rig, uint32_t code, uint32_t stream) {
  return code == snd::kReqPcmSetParams ? rig.set_fixed_params(stream) : rig.pcm_command(code, stream);
}

}  // namespace

Failures check_snd_state_machine() {
  Failures f;
  for (uint32_t stream = 0; stream < 2; ++stream) {
    for (int state = 0; state < 6; ++state) {
      for (int c = 0; c < 5; ++c) {
        SndRig rig;
        for (uint32_t step : path_to(state)) send_code(rig, step, stream);
        const PcmState before = rig.device->state(stream);
        expect(f, static_cast<int>(before) == state, "could not reach state " + num(state));
        const CtlReply r = send_code(rig, kCodes[c], stream);
        const std::string what = "stream " + num(stream) + " in " + to_string(before) + ", request " + hex(kCodes[c]);
        expect_status(f, r, kAllowed[state][c] ? kOk : kBadMsg, what);
        const PcmState want = kAllowed[state][c] ? kAfter[c] : before;
        expect(f, rig.device->state(stream) == want,
               what + ": state " + to_string(rig.device->state(stream)) + ", expected " + to_string(want));
        expect(f, rig.device->state(1 - stream) == PcmState::kIdle, what + ": the other stream moved");
      }
    }
  }
  return f;
}

Failures check_snd_control_malformed() {
  Failures f;
  SndRig rig;
  expect_status(f, rig.control(Bytes{0x00, 0x01}), kBadMsg, "2-byte request");
  Bytes start = snd_pcm_request(snd::kReqPcmStart, 0);
  start.pop_back();
  expect_status(f, rig.control(start), kBadMsg, "7-byte START");
  Bytes long_prepare = snd_pcm_request(snd::kReqPcmPrepare, 0);
  long_prepare.resize(64, 0);
  expect_status(f, rig.control(long_prepare), kBadMsg, "64-byte PREPARE");
  Bytes long_info = snd_query_info_request(0, 1, 32);
  long_info.push_back(0);
  expect_status(f, rig.control(long_info, 36), kBadMsg, "17-byte PCM_INFO");
  expect_status(f, rig.pcm_command(snd::kReqPcmPrepare, 2), kBadMsg, "stream 2");
  expect_status(f, rig.pcm_command(snd::kReqPcmPrepare, 0x80000000u), kBadMsg, "stream 2^31");
  for (uint32_t code : {0x0001u, 0x0002u, 0x0106u, 0x0200u, 0x8000u, 0u, 0xFFFFFFFFu}) {
    expect_status(f, rig.pcm_command(code, 0), kNotSupp, "code " + hex(code));
  }
  expect_status(f, rig.control(Bytes{}, 16), kBadMsg, "no readable request (header in a writable descriptor)");
  const CtlReply no_room = rig.control(snd_pcm_request(snd::kReqPcmStart, 0), 3);
  expect(f, no_room.completed && no_room.used_len == 0,
         "3-byte response place: expected used.len 0, got " + num(no_room.used_len));
  const CtlReply none = rig.control(snd_pcm_request(snd::kReqPcmStart, 0), 0);
  expect(f, none.completed && none.used_len == 0, "no response place: expected used.len 0");
  expect(f, rig.device->stats().ctl_no_response == 2, "ctl_no_response is " + num(rig.device->stats().ctl_no_response));
  expect(f, rig.device->state(0) == PcmState::kIdle && rig.device->state(1) == PcmState::kIdle,
         "malformed requests changed state");
  expect(f, rig.open_and_start(0), "device stopped serving control requests");
  expect(f, !rig.needs_reset(), "malformed control requests escalated to DEVICE_NEEDS_RESET");
  return f;
}

Failures check_snd_eventq() {
  Failures f;
  SndRig rig;
  rig.post_events(64);
  expect(f, rig.device->events_held() == 64, "events held " + num(rig.device->events_held()));
  expect(f, rig.take_used(kEvt).empty(), "an eventq buffer was completed");
  rig.open_and_start(0);
  rig.advance(4800);
  rig.pcm_command(snd::kReqPcmStop, 0);
  expect(f, rig.take_used(kEvt).empty(), "an eventq buffer was completed during streaming");
  rig.recover();
  expect(f, rig.device->events_held() == 0, "events still held after reset");
  rig.post_events(8);
  expect(f, rig.device->events_held() == 8 && rig.take_used(kEvt).empty(), "eventq after reset");
  return f;
}

Failures check_snd_playback() {
  Failures f;
  backends::MemorySink sink;
  SndRig rig(SndRigOptions{.sink = &sink});
  const uint32_t period_frames = 480;  // 10 ms
  Bytes all;
  // Queued while prepared: nothing plays and nothing completes before START.
  expect(f, rig.set_fixed_params(0, 4 * period_frames * kTxFrame, period_frames * kTxFrame).status == kOk &&
                rig.pcm_command(snd::kReqPcmPrepare, 0).status == kOk,
         "open stream 0");
  for (uint16_t slot = 0; slot < 4; ++slot) {
    const Bytes p = snd_pattern(period_frames, 2, static_cast<uint16_t>(slot * 1000 + 1));
    all.insert(all.end(), p.begin(), p.end());
    rig.queue_tx(slot, p);
  }
  rig.kick_tx();
  rig.advance(period_frames);
  expect(f, rig.reap_tx().empty() && sink.bytes.empty(), "played before START");
  expect_status(f, rig.pcm_command(snd::kReqPcmStart, 0), kOk, "START");
  rig.advance(period_frames - 1);
  expect(f, rig.reap_tx().empty(), "a buffer completed before its last frame was played");
  rig.advance(1);
  auto done = rig.reap_tx();
  expect(f, done.size() == 1 && done[0].slot == 0 && done[0].status == kOk && done[0].used_len == 8,
         "first buffer: expected slot 0 OK used.len 8");
  if (done.size() == 1) {
    expect(f, done[0].latency == 3 * period_frames * kTxFrame, "latency_bytes " + num(done[0].latency));
  }
  rig.advance(period_frames * 2 + period_frames / 2);
  done = rig.reap_tx();
  expect(f, done.size() == 2 && done[0].slot == 1 && done[1].slot == 2, "buffers 1, 2 complete in order");
  // STOP keeps the last half-played buffer; time passing while stopped plays nothing.
  expect_status(f, rig.pcm_command(snd::kReqPcmStop, 0), kOk, "STOP");
  const size_t played = sink.bytes.size();
  rig.advance(period_frames * 10);
  expect(f, sink.bytes.size() == played && rig.reap_tx().empty(), "played while stopped");
  expect_status(f, rig.pcm_command(snd::kReqPcmStart, 0), kOk, "START again");
  rig.advance(period_frames / 2);
  done = rig.reap_tx();
  expect(f, done.size() == 1 && done[0].slot == 3 && done[0].status == kOk, "buffer 3 completes after restart");
  expect(f, sink.bytes == all, "sink bytes differ from the guest's PCM (" + num(sink.bytes.size()) + " vs " +
                                   num(all.size()) + " bytes)");
  expect(f, rig.device->stats().underruns == 0, "underrun counted without one");
  expect(f, rig.device->frames_played() == 4 * period_frames, "frames_played " + num(rig.device->frames_played()));
  return f;
}

Failures check_snd_underrun() {
  Failures f;
  backends::MemorySink sink;
  SndRig rig(SndRigOptions{.sink = &sink});
  expect(f, rig.open_and_start(0), "open stream 0");
  const Bytes a = snd_pattern(100, 2, 7);
  rig.queue_tx(0, a);
  rig.kick_tx();
  rig.advance(150);  // 100 frames of PCM, then 50 of silence
  expect(f, rig.reap_tx().size() == 1, "buffer not completed");
  expect(f, rig.device->stats().underruns == 1 && rig.device->stats().underrun_frames == 50,
         "underrun counters " + num(rig.device->stats().underruns) + "/" + num(rig.device->stats().underrun_frames));
  const Bytes b = snd_pattern(60, 2, 9);
  rig.queue_tx(1, b);
  rig.kick_tx();
  rig.advance(60);
  const auto done = rig.reap_tx();
  expect(f, done.size() == 1 && done[0].status == kOk, "playback did not continue after the underrun");
  Bytes want = a;
  want.insert(want.end(), 50 * kTxFrame, 0);
  want.insert(want.end(), b.begin(), b.end());
  expect(f, sink.bytes == want, "sink: expected PCM, 50 silent frames, PCM");
  expect(f, !rig.needs_reset(), "underrun escalated");
  return f;
}

Failures check_snd_capture() {
  Failures f;
  CountingSource source;
  SndRig rig(SndRigOptions{.source = &source});
  // Not running: IO_ERR at once, nothing written.
  rig.queue_rx(0, 96);
  rig.kick_rx();
  auto done = rig.reap_rx();
  expect(f, done.size() == 1 && done[0].status == kIoErr && done[0].used_len == 8,
         "RX while idle: expected IO_ERR used.len 8");
  expect(f, rig.rx_payload(0, 96) == Bytes(96, SndRig::kUnwritten), "RX while idle wrote payload");
  expect(f, rig.open_and_start(1), "open stream 1");
  for (uint16_t s = 0; s < 3; ++s) rig.queue_rx(s, 96);  // 48 frames each
  rig.kick_rx();
  expect(f, rig.reap_rx().empty(), "RX completed before any time passed");
  rig.advance(48 + 24);
  done = rig.reap_rx();
  expect(f, done.size() == 1 && done[0].slot == 0 && done[0].status == kOk && done[0].used_len == 96 + 8,
         "first RX buffer: expected OK used.len 104");
  expect(f, rig.rx_payload(0, 96) == source.expected(0, 96), "captured bytes differ from the source");
  // STOP returns the half-filled buffer with what it holds, and the empty one.
  expect_status(f, rig.pcm_command(snd::kReqPcmStop, 1), kOk, "STOP capture");
  done = rig.reap_rx();
  expect(f, done.size() == 2 && done[0].slot == 1 && done[0].used_len == 48 + 8 && done[0].status == kOk &&
                done[1].slot == 2 && done[1].used_len == 8,
         "STOP: expected the partly filled buffer (used.len 56) and the empty one (8)");
  expect(f, rig.rx_payload(1, 48) == source.expected(96, 48), "partly filled buffer bytes");
  rig.queue_rx(3, 96);
  rig.kick_rx();
  done = rig.reap_rx();
  expect(f, done.size() == 1 && done[0].status == kIoErr, "RX while stopped: expected IO_ERR");
  // Without a source the device captures silence.
  SndRig quiet;
  quiet.open_and_start(1);
  quiet.queue_rx(0, 64);
  quiet.kick_rx();
  quiet.advance(32);
  done = quiet.reap_rx();
  expect(f, done.size() == 1 && done[0].status == kOk && quiet.rx_payload(0, 64) == Bytes(64, 0),
         "no source: expected 64 bytes of silence");
  // Frames with no buffer waiting are dropped and counted.
  quiet.advance(10);
  expect(f, quiet.device->stats().overrun_frames == 10, "overrun_frames " + num(quiet.device->stats().overrun_frames));
  return f;
}

Failures check_snd_payload_cap() {
  Failures f;
  SndRig rig;
  rig.open_and_start(0);
  rig.open_and_start(1);
  const uint64_t big = SndRig::kBigGpa;
  const uint64_t status = big + 0x80000;
  for (uint32_t payload : {snd::kMaxPayloadBytes, snd::kMaxPayloadBytes + 4}) {
    rig.poke(big, Bytes{0, 0, 0, 0, 0, 0, 0, 0});
    rig.fill(status, SndRig::kUnwritten, 8);
    const vq::Segment tx[3] = {{big, 8, false}, {big + 8, payload, false}, {status, 8, true}};
    rig.add_chain(kTx, 0, tx);
    rig.kick_tx();
    rig.advance(payload / kTxFrame);
    const auto done = rig.take_used(kTx);
    const uint32_t want = payload > snd::kMaxPayloadBytes ? kBadMsg : kOk;
    expect(f, done.size() == 1 && get_le(rig.peek(status, 4), 0, 4) == want,
           "TX payload " + num(payload) + ": expected " + hex(want));
  }
  for (uint32_t payload : {snd::kMaxPayloadBytes, snd::kMaxPayloadBytes + 2}) {
    rig.poke(big, Bytes{1, 0, 0, 0, 0, 0, 0, 0});
    rig.fill(big + 8 + payload, SndRig::kUnwritten, 8);
    const vq::Segment rx[3] = {{big, 8, false}, {big + 8, payload, true}, {big + 8 + payload, 8, true}};
    rig.add_chain(kRx, 0, rx);
    rig.kick_rx();
    rig.advance(payload / kRxFrame);
    const auto done = rig.take_used(kRx);
    const uint32_t want = payload > snd::kMaxPayloadBytes ? kBadMsg : kOk;
    expect(f, done.size() == 1 && get_le(rig.peek(big + 8 + payload, 4), 0, 4) == want,
           "RX payload " + num(payload) + ": expected " + hex(want));
    if (want == kBadMsg && done.size() == 1) expect(f, done[0].len == 8, "RX BAD_MSG used.len " + num(done[0].len));
  }
  return f;
}

// ---- hostile guests on raw rings -----------------------------------------

namespace {

using Raw = transport::testing::RawDesc;
constexpr uint16_t W = vq::kDescFWrite;
constexpr uint64_t kBuf = 0x2000000;
constexpr uint64_t kNowhere = 0xF000'0000'0000ull;

struct Hostile {
  backends::MemorySink sink;
  SndRig rig;
  uint16_t next_used[4] = {0, 0, 0, 0};
  Hostile() : rig(SndRigOptions{.sink = &sink, .raw_ring = true}) {}

  std::optional<vq::VirtqUsedElem> used(uint16_t q) {
    auto e = rig.raw_used(q, next_used[q]);
    if (e) ++next_used[q];
    return e;
  }
  // A control request on the raw ring at descriptor `first`; the status word.
  uint32_t control(const Bytes& req, uint16_t first) {
    rig.poke(kBuf + 0x7000, req);
    rig.fill(kBuf + 0x7800, SndRig::kUnwritten, 4);
    const Raw d[2] = {{kBuf + 0x7000, static_cast<uint32_t>(req.size()), 0}, {kBuf + 0x7800, 4, W}};
    rig.raw_chain(kCtl, d, first);
    used(kCtl);
    return static_cast<uint32_t>(get_le(rig.peek(kBuf + 0x7800, 4), 0, 4));
  }
};

void expect_used(Failures& f, Hostile& h, uint16_t q, uint16_t head, uint32_t len, const std::string& what) {
  const auto e = h.used(q);
  expect(f, e.has_value() && e->id == head && e->len == len,
         what + ": expected used {" + num(head) + ", " + num(len) + "}, got " +
             (e ? "{" + num(e->id) + ", " + num(e->len) + "}" : "nothing"));
}

// After a case: the control queue brings stream 0 to running (if it is not
// already) and a good TX buffer plays.
void keeps_working(Failures& f, Hostile& h) {
  if (h.rig.device->state(0) != PcmState::kRunning) {
    h.control(snd_set_params_request(0, 0x1000, 0x400, 2, 5, 7), 40);
    h.control(snd_pcm_request(snd::kReqPcmPrepare, 0), 40);
    h.control(snd_pcm_request(snd::kReqPcmStart, 0), 40);
  }
  expect(f, h.rig.device->state(0) == PcmState::kRunning, "control queue stopped serving");
  const Bytes pcm = snd_pattern(16, 2, 77);
  h.rig.poke(kBuf + 0x9000, Bytes{0, 0, 0, 0, 0, 0, 0, 0});
  h.rig.poke(kBuf + 0x9008, pcm);
  const Raw d[2] = {{kBuf + 0x9000, static_cast<uint32_t>(8 + pcm.size()), 0}, {kBuf + 0x9100, 8, W}};
  const size_t before = h.sink.bytes.size();
  h.rig.raw_chain(kTx, d, 200);
  h.rig.advance(16);
  expect_used(f, h, kTx, 200, 8, "good TX after the case");
  expect(f, get_le(h.rig.peek(kBuf + 0x9100, 4), 0, 4) == kOk, "good TX status");
  expect(f, h.sink.bytes.size() >= before + pcm.size() &&
                Bytes(h.sink.bytes.end() - static_cast<long>(pcm.size()), h.sink.bytes.end()) == pcm,
         "device stopped playing");
  expect(f, !h.rig.needs_reset(), "hostile chain escalated to DEVICE_NEEDS_RESET");
}

// A PCM case: descs on queue q (stream running); expect used.len and status.
SndHostileCase pcm_case(std::string name, std::vector<std::string> rules, uint16_t q, std::vector<Raw> descs,
                        uint32_t used_len, std::optional<uint32_t> status, uint64_t status_gpa) {
  return {std::move(name), std::move(rules), [=] {
            Failures f;
            Hostile h;
            h.control(snd_set_params_request(0, 0x1000, 0x400, 2, 5, 7), 40);
            h.control(snd_pcm_request(snd::kReqPcmPrepare, 0), 40);
            h.control(snd_pcm_request(snd::kReqPcmStart, 0), 40);
            h.control(snd_set_params_request(1, 0x1000, 0x400, 1, 5, 7), 40);
            h.control(snd_pcm_request(snd::kReqPcmPrepare, 1), 40);
            h.control(snd_pcm_request(snd::kReqPcmStart, 1), 40);
            h.rig.fill(kBuf, 0, 0x100);  // headers name stream 0 unless a case pokes otherwise
            h.rig.poke(kBuf + 0x40, Bytes{1, 0, 0, 0});
            h.rig.fill(status_gpa, SndRig::kUnwritten, 8);
            h.rig.raw_chain(q, descs, 0);
            h.rig.advance(4096);
            expect_used(f, h, q, 0, used_len, "hostile chain");
            if (status) {
              expect(f, get_le(h.rig.peek(status_gpa, 4), 0, 4) == *status,
                     "status " + hex(get_le(h.rig.peek(status_gpa, 4), 0, 4)) + ", expected " + hex(*status));
            }
            keeps_working(f, h);
            return f;
          }};
}

SndHostileCase ctl_case(std::string name, std::vector<Raw> descs, uint32_t used_len,
                        std::optional<uint32_t> status) {
  return {std::move(name), {"SND-4", "VQ-7"}, [=] {
            Failures f;
            Hostile h;
            h.rig.poke(kBuf, snd_pcm_request(snd::kReqPcmPrepare, 0));
            h.rig.fill(kBuf + 0x100, SndRig::kUnwritten, 0x100);
            h.rig.raw_chain(kCtl, descs, 0);
            expect_used(f, h, kCtl, 0, used_len, "hostile control chain");
            if (status) {
              expect(f, get_le(h.rig.peek(kBuf + 0x100, 4), 0, 4) == *status,
                     "status " + hex(get_le(h.rig.peek(kBuf + 0x100, 4), 0, 4)) + ", expected " + hex(*status));
            }
            expect(f, h.rig.device->state(0) == PcmState::kIdle, "hostile control chain changed state");
            keeps_working(f, h);
            return f;
          }};
}

}  // namespace

std::vector<SndHostileCase> snd_hostile_cases() {
  std::vector<SndHostileCase> cases;
  const uint64_t tx_status = kBuf + 0x20;
  // TX: {hdr 8 + payload 16 readable at kBuf} then status at kBuf+0x20.
  cases.push_back(pcm_case("snd.hostile.tx-header-writable", {"SND-6", "VQ-7"}, kTx,
                           {{kBuf, 24, W}, {tx_status, 8, W}}, 8, kBadMsg, tx_status));
  cases.push_back(pcm_case("snd.hostile.tx-short-header", {"SND-6"}, kTx, {{kBuf, 4, 0}, {tx_status, 8, W}}, 8,
                           kBadMsg, tx_status));
  cases.push_back(pcm_case("snd.hostile.tx-wrong-stream", {"SND-6"}, kTx, {{kBuf + 0x40, 24, 0}, {tx_status, 8, W}},
                           8, kBadMsg, tx_status));
  cases.push_back(pcm_case("snd.hostile.tx-no-status", {"SND-6"}, kTx, {{kBuf, 24, 0}, {tx_status, 4, W}}, 0,
                           std::nullopt, tx_status));
  cases.push_back(pcm_case("snd.hostile.tx-partial-frame", {"SND-6"}, kTx, {{kBuf, 8 + 6, 0}, {tx_status, 8, W}}, 8,
                           kBadMsg, tx_status));
  cases.push_back(pcm_case("snd.hostile.tx-outside-memory", {"SND-6", "VQ-7", "DMA-1"}, kTx,
                           {{kBuf, 8, 0}, {kNowhere, 64, 0}, {tx_status, 8, W}}, 0, std::nullopt, tx_status));
  cases.push_back(pcm_case("snd.hostile.tx-huge-claim", {"VQ-7", "DMA-1"}, kTx,
                           {{kBuf, 8, 0}, {kBuf + 0x100, 0x80000000u, 0}, {tx_status, 8, W}}, 0, std::nullopt,
                           tx_status));
  cases.push_back(pcm_case("snd.hostile.rx-wrong-stream", {"SND-7"}, kRx,
                           {{kBuf, 8, 0}, {kBuf + 0x80, 32, W}, {tx_status, 8, W}},
                           8, kBadMsg, tx_status));
  cases.push_back(pcm_case("snd.hostile.rx-readable-payload", {"SND-7"}, kRx,
                           {{kBuf + 0x40, 40, 0}, {tx_status, 8, W}}, 8, kBadMsg, tx_status));
  cases.push_back(pcm_case("snd.hostile.rx-odd-payload", {"SND-7"}, kRx,
                           {{kBuf + 0x40, 8, 0}, {kBuf + 0x80, 3, W}, {tx_status, 8, W}}, 8, kBadMsg, tx_status));
  cases.push_back(ctl_case("snd.hostile.ctl-header-writable", {{kBuf + 0x100, 12, W}}, 4, kBadMsg));
  cases.push_back(ctl_case("snd.hostile.ctl-truncated", {{kBuf, 6, 0}, {kBuf + 0x100, 4, W}}, 4, kBadMsg));
  cases.push_back(ctl_case("snd.hostile.ctl-oversized", {{kBuf, 0x100, 0}, {kBuf + 0x100, 4, W}}, 4, kBadMsg));
  cases.push_back(ctl_case("snd.hostile.ctl-no-response", {{kBuf, 8, 0}}, 0, std::nullopt));
  cases.push_back(ctl_case("snd.hostile.ctl-outside-memory", {{kBuf, 8, 0}, {kNowhere, 4, W}}, 0, std::nullopt));
  cases.push_back({"snd.hostile.eventq-abuse", {"SND-5", "VQ-7"}, [] {
                     Failures f;
                     Hostile h;
                     const Raw readable[1] = {{kBuf, 8, 0}};
                     h.rig.raw_chain(kEvt, readable, 0);
                     expect_used(f, h, kEvt, 0, 0, "readable eventq buffer");
                     const Raw outside[1] = {{kNowhere, 8, W}};
                     h.rig.raw_chain(kEvt, outside, 1);
                     expect_used(f, h, kEvt, 1, 0, "eventq buffer outside memory");
                     for (uint16_t i = 0; i < 40; ++i) {
                       const Raw ok[1] = {{kBuf + 0x1000 + 8u * i, 8, W}};
                       h.rig.raw_chain(kEvt, ok, static_cast<uint16_t>(2 + i));
                     }
                     expect(f, !h.used(kEvt).has_value(), "a well-formed eventq buffer was completed");
                     expect(f, h.rig.device->events_held() == 40, "events held " + num(h.rig.device->events_held()));
                     expect(f, h.rig.device->stats().event_rejected == 2, "event_rejected not 2");
                     keeps_working(f, h);
                     return f;
                   }});
  return cases;
}

}  // namespace aerov::model::devices::testing
