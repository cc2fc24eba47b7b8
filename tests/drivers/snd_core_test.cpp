// The Windows 7 virtio-snd core (drivers/windows7/common/snd_core) against
// the real virtio-snd device model through the real virtio-pci transport:
// bring-up, the control state machine, PCM byte-exactness end to end, the
// WaveRT position, capture, DEVICE_NEEDS_RESET recovery and hostile devices.
#include <catch2/catch.hpp>

#include <cstring>

#include "model/backends/audio/wav.hpp"
#include "model/devices/snd/snd_wire.hpp"
#include "tests/drivers/snd_machine.hpp"

namespace {

using aerov::drivers::testing::CyclicBuffer;
using aerov::drivers::testing::SndMachine;
using aerov::drivers::testing::SndMachineOptions;
using aerov::model::backends::SineSource;
using aerov::model::devices::PcmState;
using namespace aerov::drivers::windows7;
namespace wire = aerov::model::devices::snd;
using Bytes = std::vector<uint8_t>;

constexpr uint32_t kPeriodFrames = 480;  // 10 ms at 48 kHz
constexpr uint32_t kPlayPeriod = kPeriodFrames * 4;
constexpr uint32_t kPeriods = 4;

// The WaveRT client: writes a generated tone into the cyclic buffer one
// period ahead of the play position, and remembers everything it wrote.
struct Player {
  SndMachine& m;
  CyclicBuffer buf;
  SineSource tone{2, 48000, 997, 12000, 123};
  Bytes written;
  uint64_t refilled_upto = 0;  // bytes of the stream written so far

  Player(SndMachine& machine, uint32_t periods = kPeriods)
      : m(machine), buf(machine.make_buffer(periods * kPlayPeriod)) {
    fill_ahead();
  }
  // Keeps the whole buffer ahead of the position filled with new signal.
  void fill_ahead() {
    const uint64_t done = m.core.bytes_done(0);
    while (refilled_upto < done + buf.bytes) {
      Bytes chunk(kPlayPeriod);
      tone.read(chunk);
      std::memcpy(static_cast<uint8_t*>(buf.region.va) + refilled_upto % buf.bytes, chunk.data(), chunk.size());
      written.insert(written.end(), chunk.begin(), chunk.end());
      refilled_upto += kPlayPeriod;
    }
  }
  void play_periods(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      m.advance(kPeriodFrames);
      fill_ahead();
    }
  }
  Bytes first(uint64_t n) const { return Bytes(written.begin(), written.begin() + static_cast<long>(n)); }
};

bool same(const Bytes& a, const Bytes& b) { return a == b; }

// open + start of the playback stream over the player's buffer.
void start_playback(SndMachine& m, Player& p) {
  REQUIRE(m.core.open(0, p.buf.region, p.buf.bytes, kPlayPeriod) == SndError::kNone);
  REQUIRE(m.core.start(0) == SndError::kNone);
}

constexpr uint32_t kCapturePeriod = kPeriodFrames * 2;  // mono S16

// open + start of the capture stream over a fresh cyclic buffer.
CyclicBuffer start_capture(SndMachine& m) {
  const CyclicBuffer b = m.make_buffer(kPeriods * kCapturePeriod);
  REQUIRE(m.core.open(1, b.region, b.bytes, kCapturePeriod) == SndError::kNone);
  REQUIRE(m.core.start(1) == SndError::kNone);
  return b;
}

// Plays a hostile device: publishes a used entry {id, len} on the ring in
// the core's DMA allocation `ring` (a queue of `size`).
void forge_used(SndMachine& m, size_t ring, uint16_t size, uint32_t id, uint32_t len) {
  const uint16_t idx = m.used_idx(ring, size);
  m.poke_used(ring, size, idx, id, len);
  const uint16_t next = static_cast<uint16_t>(idx + 1);
  m.memory.write(m.used_pa(ring, size) + 2, &next, 2);
}

}  // namespace

TEST_CASE("snd.core: init checks the device, posts eventq buffers and leaves streams closed",
          "[snd][core][SND-1][SND-2][SND-3][SND-5][STAT-3][DRV-1]") {
  SndMachine m;
  REQUIRE(m.core.ready());
  CHECK(m.core.counters().control_requests == 1);  // PCM_INFO
  CHECK(m.device->events_held() == SndCore::kEventBuffers);
  CHECK(m.core.state(0) == SndStreamState::kClosed);
  CHECK(m.device->state(0) == PcmState::kIdle);
  CHECK(m.core.interrupt_mode() == InterruptMode::kIntx);
}

TEST_CASE("snd.core: open, start, stop and close drive the device's state machine", "[snd][core][SND-4]") {
  SndMachine m;
  const CyclicBuffer b = m.make_buffer(kPeriods * kPlayPeriod);
  REQUIRE(m.core.open(0, b.region, b.bytes, kPlayPeriod) == SndError::kNone);
  CHECK(m.device->state(0) == PcmState::kPrepared);
  CHECK(m.core.open(0, b.region, b.bytes, kPlayPeriod) == SndError::kBadState);
  CHECK(m.core.stop(0) == SndError::kBadState);
  REQUIRE(m.core.start(0) == SndError::kNone);
  CHECK(m.device->state(0) == PcmState::kRunning);
  CHECK(m.core.periods_in_flight(0) == kPeriods);
  CHECK(m.core.start(0) == SndError::kBadState);
  REQUIRE(m.core.stop(0) == SndError::kNone);
  CHECK(m.device->state(0) == PcmState::kStopped);
  REQUIRE(m.core.close(0) == SndError::kNone);
  CHECK(m.device->state(0) == PcmState::kReleased);
  CHECK(m.core.periods_in_flight(0) == 0);
  CHECK(m.core.bytes_done(0) == 0);  // RELEASE gave the periods back unplayed
  CHECK(m.core.counters().period_errors == 0);
  // Open again after release, and close a running stream directly.
  REQUIRE(m.core.open(0, b.region, b.bytes, kPlayPeriod) == SndError::kNone);
  REQUIRE(m.core.start(0) == SndError::kNone);
  REQUIRE(m.core.close(0) == SndError::kNone);
  CHECK(m.core.state(0) == SndStreamState::kClosed);
}

TEST_CASE("snd.core: open refuses geometry the contract cannot carry", "[snd][core][SND-8]") {
  SndMachine m;
  const CyclicBuffer b = m.make_buffer(64 * 1024);
  CHECK(m.core.open(2, b.region, 4096, 1024) == SndError::kInvalidArgument);
  CHECK(m.core.open(0, b.region, 4096, 1022) == SndError::kInvalidArgument);  // partial frame
  CHECK(m.core.open(0, b.region, 4096, 4096) == SndError::kInvalidArgument);  // one period
  CHECK(m.core.open(0, b.region, 17 * 256, 256) == SndError::kInvalidArgument);  // 17 periods
  CHECK(m.core.open(0, b.region, 4100, 1024) == SndError::kInvalidArgument);
  CHECK(m.core.open(0, b.region, 2 * 262148, 262148) == SndError::kInvalidArgument);
  CHECK(m.core.open(1, b.region, 4096, 1024) == SndError::kNone);
  CHECK(m.core.counters().control_requests == 3);  // PCM_INFO, SET_PARAMS, PREPARE
}

TEST_CASE("snd.core: a generated tone plays through core and device byte-exactly", "[snd][core][SND-6]") {
  SndMachine m;
  Player p(m);
  start_playback(m, p);
  p.play_periods(25);  // more than six times round the cyclic buffer
  CHECK(m.sink.bytes.size() == 25u * kPlayPeriod);
  CHECK(same(m.sink.bytes, p.first(25u * kPlayPeriod)));
  CHECK(m.device->stats().underruns == 0);
  CHECK(m.core.counters().period_errors == 0);
  CHECK(m.core.periods_in_flight(0) == kPeriods);
}

TEST_CASE("snd.core: the position advances as periods complete and wraps with the buffer", "[snd][core][SND-6]") {
  SndMachine m;
  Player p(m);
  start_playback(m, p);
  m.advance(kPeriodFrames - 1);
  CHECK(m.core.position(0) == 0);
  CHECK(m.period_events.empty());
  m.advance(1);
  CHECK(m.core.position(0) == kPlayPeriod);
  REQUIRE(m.period_events.size() == 1);
  CHECK(m.period_events[0] == std::make_pair(0u, uint64_t{kPlayPeriod}));
  p.fill_ahead();
  p.play_periods(kPeriods - 1);
  CHECK(m.core.position(0) == 0);  // wrapped
  CHECK(m.core.bytes_done(0) == kPeriods * kPlayPeriod);
  // Paused: no time is played, the position holds, and resumes exactly.
  REQUIRE(m.core.stop(0) == SndError::kNone);
  m.advance(10 * kPeriodFrames);
  CHECK(m.core.bytes_done(0) == kPeriods * kPlayPeriod);
  REQUIRE(m.core.start(0) == SndError::kNone);
  p.play_periods(3);
  CHECK(m.core.bytes_done(0) == (kPeriods + 3) * kPlayPeriod);
  CHECK(m.core.position(0) == 3 * kPlayPeriod);
  CHECK(same(m.sink.bytes, p.first((kPeriods + 3) * kPlayPeriod)));
}

TEST_CASE("snd.core: the recorded WAV of a played tone equals what the client wrote", "[snd][core][SND-6]") {
  SndMachine m;
  Player p(m);
  start_playback(m, p);
  p.play_periods(8);
  Bytes file = aerov::model::backends::wav_header({2, 48000, 16}, static_cast<uint32_t>(m.sink.bytes.size()));
  file.insert(file.end(), m.sink.bytes.begin(), m.sink.bytes.end());
  const auto back = aerov::model::backends::parse_wav(file);
  REQUIRE(back.error == aerov::model::backends::WavError::kNone);
  CHECK(same(back.pcm, p.first(8 * kPlayPeriod)));
}

TEST_CASE("snd.core: capture fills the cyclic buffer with the source's samples", "[snd][core][SND-7]") {
  SineSource source(1, 48000, 440, 9000, 7);
  SineSource reference(1, 48000, 440, 9000, 7);
  SndMachine m(SndMachineOptions{.source = &source});
  const CyclicBuffer b = start_capture(m);
  const uint32_t period = kCapturePeriod;
  CHECK(m.core.periods_in_flight(1) == kPeriods);
  for (uint32_t i = 0; i < 10; ++i) {
    m.advance(kPeriodFrames);
    REQUIRE(m.core.bytes_done(1) == uint64_t{i + 1} * period);
    Bytes want(period);
    reference.read(want);
    const uint8_t* got = static_cast<const uint8_t*>(b.region.va) + (i % kPeriods) * period;
    CHECK(std::memcmp(got, want.data(), period) == 0);
  }
  // STOP in the middle of a period: its half counts; START continues at the next boundary.
  m.advance(kPeriodFrames / 2);
  REQUIRE(m.core.stop(1) == SndError::kNone);
  CHECK(m.core.bytes_done(1) == 10u * period + period / 2);
  CHECK(m.core.periods_in_flight(1) == 0);
  REQUIRE(m.core.start(1) == SndError::kNone);
  CHECK(m.core.position(1) == (11 % kPeriods) * period);
  m.advance(kPeriodFrames);
  CHECK(m.core.bytes_done(1) == 12u * period);
  CHECK(m.core.counters().period_errors == 0);
}

TEST_CASE("snd.core: DEVICE_NEEDS_RESET mid-stream loses no PCM and keeps the position",
          "[snd][core][STAT-4][SND-4][SND-6]") {
  SndMachine m;
  Player p(m);
  start_playback(m, p);
  p.play_periods(5);
  m.advance(kPeriodFrames / 2);  // half of the 6th period has played
  const uint64_t before = m.core.bytes_done(0);
  m.function->set_needs_reset();
  m.service();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.ready());
  CHECK(m.device->state(0) == PcmState::kRunning);  // re-set-params, re-prepare, restarted
  CHECK(m.core.bytes_done(0) == before);
  CHECK(m.core.periods_in_flight(0) == kPeriods);
  CHECK(m.core.counters().resubmitted == kPeriods);
  CHECK(m.device->events_held() == SndCore::kEventBuffers);
  p.play_periods(6);
  // The half period played before the reset is played again in full: the
  // device never completed it, so the core cannot know it was heard.
  Bytes want = p.first(5 * kPlayPeriod + kPlayPeriod / 2);
  const Bytes rest(p.written.begin() + 5 * kPlayPeriod, p.written.begin() + 11 * kPlayPeriod);
  want.insert(want.end(), rest.begin(), rest.end());
  CHECK(same(m.sink.bytes, want));
  CHECK(m.core.bytes_done(0) == 11u * kPlayPeriod);
}

TEST_CASE("snd.core: a reset while stopped restores a stopped stream with its periods queued",
          "[snd][core][STAT-4][SND-4]") {
  SndMachine m;
  Player p(m);
  start_playback(m, p);
  p.play_periods(2);
  REQUIRE(m.core.stop(0) == SndError::kNone);
  m.function->set_needs_reset();
  m.service();
  CHECK(m.device->state(0) == PcmState::kPrepared);
  CHECK(m.core.state(0) == SndStreamState::kStopped);
  CHECK(m.device->tx_pending() == kPeriods);
  REQUIRE(m.core.start(0) == SndError::kNone);
  p.play_periods(4);
  CHECK(same(m.sink.bytes, p.first(6 * kPlayPeriod)));
}

TEST_CASE("snd.core: a forged used entry breaks the ring and the core recovers", "[snd][core][VQ-9][STAT-4]") {
  SndMachine m;
  Player p(m);
  start_playback(m, p);
  p.play_periods(1);
  // txq's ring is DMA allocation 2; its next used slot gets an id the core never posted.
  forge_used(m, 2, 256, 9999, 8);
  m.core.poll();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.ready());
  p.play_periods(3);
  CHECK(m.core.bytes_done(0) == 4u * kPlayPeriod);
  CHECK(same(m.sink.bytes, p.first(4 * kPlayPeriod)));
}

TEST_CASE("snd.core: a device that answers SET_PARAMS with an error fails open", "[snd][core][SND-4]") {
  SndMachine m;
  const CyclicBuffer b = m.make_buffer(kPeriods * kPlayPeriod);
  REQUIRE(m.core.open(0, b.region, b.bytes, kPlayPeriod) == SndError::kNone);
  REQUIRE(m.core.start(0) == SndError::kNone);
  // The core's state says closed for stream 1, but the device is asked for
  // capture with the wrong state (START before PREPARE is refused).
  CHECK(m.core.start(1) == SndError::kBadState);
  // A device reset behind the core's back: the device forgets the streams,
  // so STOP is answered BAD_MSG and the core reports it.
  m.device->reset();
  CHECK(m.core.stop(0) == SndError::kDeviceStatus);
  CHECK(m.core.last_status() == wire::kStatusBadMsg);
  CHECK(m.core.counters().control_failures == 1);
}

TEST_CASE("snd.core: a device that never answers control requests is failed, not waited for",
          "[snd][core][STAT-4]") {
  SndMachine m;
  const CyclicBuffer b = m.make_buffer(kPeriods * kPlayPeriod);
  m.mute_control(true);
  // Each unanswered request resets the device (STAT-4); with no progress
  // in between the core gives up after kMaxResetsWithoutProgress.
  uint32_t attempts = 0;
  while (!m.core.failed() && attempts < 10) {
    CHECK(m.core.open(0, b.region, b.bytes, kPlayPeriod) == SndError::kNoResponse);
    ++attempts;
  }
  CHECK(m.core.failed());
  CHECK(attempts == SndCore::kMaxResetsWithoutProgress + 1);
  CHECK(m.core.counters().resets == SndCore::kMaxResetsWithoutProgress + 1);
  CHECK(m.core.open(0, b.region, b.bytes, kPlayPeriod) == SndError::kNotReady);
}

TEST_CASE("snd.core: unexpected eventq completions are counted and the buffer reposted", "[snd][core][SND-5]") {
  SndMachine m;
  // Play the device: complete the first posted event buffer (eventq ring is allocation 1).
  const uint16_t size = 64;
  uint16_t head = 0;
  const uint64_t avail = m.os->allocations().at(1).pa + 16ull * size;
  m.memory.read(avail + 4, &head, 2);
  forge_used(m, 1, size, head, 8);
  m.core.poll();
  CHECK(m.core.counters().events == 1);
  CHECK(m.core.counters().resets == 0);
  CHECK(m.core.ready());
  CHECK(m.core.counters().kicks > 0);
}

TEST_CASE("snd.core: a capture period completed without room for its status is counted and capture goes on",
          "[snd][core][VQ-9][STAT-4][SND-7]") {
  SineSource source(1, 48000, 440, 9000, 7);
  SndMachine m(SndMachineOptions{.source = &source});
  start_capture(m);
  const uint32_t period = kCapturePeriod;
  // rxq's ring is DMA allocation 3 (64 entries): complete its first posted
  // chain with used.len 3 while the device still holds it.
  uint16_t head = 0;
  m.memory.read(m.os->allocations().at(3).pa + 16ull * 64 + 4, &head, 2);
  forge_used(m, 3, 64, head, 3);
  m.core.poll();
  CHECK(m.core.counters().short_status == 1);
  CHECK(m.core.counters().period_errors == 1);  // the status bytes were never written
  CHECK(m.core.bytes_done(1) == period);        // the period is skipped, not lost in the position
  // Requeuing a chain the device still held is ring corruption on its side
  // (STAT-4): the core resets it and capture resumes.
  m.service();
  m.core.poll();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.ready());
  CHECK(m.device->state(1) == PcmState::kRunning);
  const uint64_t before = m.core.bytes_done(1);
  m.advance(kPeriodFrames);
  CHECK(m.core.bytes_done(1) == before + period);
}

TEST_CASE("snd.core: with MSI-X granted, playback and reset recovery run on messages alone",
          "[snd][core][IRQ-4][DRV-2][SND-6][STAT-4]") {
  for (const uint16_t granted : {uint16_t{1}, uint16_t{5}}) {
    SndMachine m(SndMachineOptions{.msix_vectors = 5, .grant_messages = granted});
    CHECK(m.core.interrupt_mode() == (granted == 1 ? InterruptMode::kMsixShared : InterruptMode::kMsixPerQueue));
    Player p(m);
    start_playback(m, p);
    p.play_periods(6);
    CHECK(m.core.counters().messages > 0);
    CHECK(m.core.counters().interrupts == 0);  // never INTx (IRQ-4)
    CHECK_FALSE(m.intx.level());
    m.function->set_needs_reset();  // raised through the config message
    m.service();
    CHECK(m.core.counters().resets == 1);
    p.play_periods(4);
    CHECK(m.core.bytes_done(0) == 10u * kPlayPeriod);
    CHECK(same(m.sink.bytes, p.first(10 * kPlayPeriod)));
  }
}
