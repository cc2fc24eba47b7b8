// PCM streaming in virtual time: eventq (SND-5), playback (SND-6), capture
// (SND-7), the payload cap (SND-8), and ring corruption (VQ-8, STAT-4).
#include <catch2/catch.hpp>

#include <algorithm>

#include "model/devices/snd/testing/snd_rig.hpp"
#include "model/devices/snd/testing/snd_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace wire = aerov::model::devices::snd;

TEST_CASE("snd.stream: eventq buffers are held and never completed", "[snd][SND-5]") {
  AEROV_CHECK_SCENARIO(check_snd_eventq());
}

TEST_CASE("snd.stream: playback is byte-exact, in order, paced by virtual time", "[snd][SND-6]") {
  AEROV_CHECK_SCENARIO(check_snd_playback());
}

TEST_CASE("snd.stream: an underrun plays silence and playback continues", "[snd][SND-6]") {
  AEROV_CHECK_SCENARIO(check_snd_underrun());
}

TEST_CASE("snd.stream: capture fills buffers while running, IO_ERR otherwise", "[snd][SND-7]") {
  AEROV_CHECK_SCENARIO(check_snd_capture());
}

TEST_CASE("snd.stream: payloads over 262144 bytes complete BAD_MSG", "[snd][SND-8]") {
  AEROV_CHECK_SCENARIO(check_snd_payload_cap());
}

TEST_CASE("snd.stream: TX while not prepared completes IO_ERR at once", "[snd][SND-6]") {
  SndRig rig;
  rig.queue_tx(0, snd_pattern(8, 2, 1));
  rig.kick_tx();
  auto done = rig.reap_tx();
  REQUIRE(done.size() == 1);
  CHECK(done[0].status == wire::kStatusIoErr);
  CHECK(done[0].used_len == 8);
}

TEST_CASE("snd.stream: RELEASE completes unplayed buffers IO_ERR before it answers", "[snd][SND-4][SND-6]") {
  backends::MemorySink sink;
  SndRig rig(SndRigOptions{.sink = &sink});
  REQUIRE(rig.open_and_start(0));
  for (uint16_t s = 0; s < 3; ++s) rig.queue_tx(s, snd_pattern(100, 2, s));
  rig.kick_tx();
  rig.advance(150);  // buffer 0 played, buffer 1 half
  CHECK(rig.reap_tx().size() == 1);
  REQUIRE(rig.pcm_command(wire::kReqPcmStop, 0).status == wire::kStatusOk);
  REQUIRE(rig.pcm_command(wire::kReqPcmRelease, 0).status == wire::kStatusOk);
  const auto done = rig.reap_tx();
  REQUIRE(done.size() == 2);
  CHECK(done[0].slot == 1);
  CHECK(done[1].slot == 2);
  CHECK(done[0].status == wire::kStatusIoErr);
  CHECK(done[1].status == wire::kStatusIoErr);
  CHECK(rig.device->tx_pending() == 0);
}

TEST_CASE("snd.stream: a zero-length TX buffer completes OK in its turn", "[snd][SND-6]") {
  SndRig rig;
  REQUIRE(rig.open_and_start(0));
  rig.queue_tx(0, snd_pattern(10, 2, 3));
  rig.queue_tx(1, {});
  rig.kick_tx();
  rig.advance(10);
  const auto done = rig.reap_tx();
  REQUIRE(done.size() == 2);
  CHECK(done[1].slot == 1);
  CHECK(done[1].status == wire::kStatusOk);
}

TEST_CASE("snd.stream: time before DRIVER_OK or while not running is not owed", "[snd][SND-6]") {
  backends::MemorySink sink;
  SndRig rig(SndRigOptions{.sink = &sink});
  rig.advance(1000);
  REQUIRE(rig.open_and_start(0));
  CHECK(sink.bytes.empty());
  rig.queue_tx(0, snd_pattern(10, 2, 3));
  rig.kick_tx();
  CHECK(rig.reap_tx().empty());
  rig.advance(10);
  CHECK(rig.reap_tx().size() == 1);
  CHECK(sink.bytes == snd_pattern(10, 2, 3));
}

TEST_CASE("snd.stream: txq corruption sets DEVICE_NEEDS_RESET, and playback works after recovery",
          "[snd][VQ-8][STAT-4]") {
  backends::MemorySink sink;
  SndRig rig(SndRigOptions{.sink = &sink});
  REQUIRE(rig.open_and_start(0));
  rig.memory.write_obj(rig.queues[wire::kTxQueue].avail_pa() + 2, uint16_t{600});
  rig.driver.notify(wire::kTxQueue);
  CHECK(rig.needs_reset());
  rig.recover();
  CHECK_FALSE(rig.needs_reset());
  REQUIRE(rig.open_and_start(0));
  rig.queue_tx(0, snd_pattern(20, 2, 5));
  rig.kick_tx();
  rig.advance(20);
  const auto done = rig.reap_tx();
  REQUIRE(done.size() == 1);
  CHECK(done[0].status == wire::kStatusOk);
  CHECK(sink.bytes == snd_pattern(20, 2, 5));
}

TEST_CASE("snd.stream: a long underrun reaches the sink as exact silence in bounded pieces", "[snd][SND-6]") {
  backends::MemorySink sink;
  SndRig rig(SndRigOptions{.sink = &sink});
  REQUIRE(rig.open_and_start(0));
  rig.advance(100000);  // 400000 bytes of silence: several pieces
  CHECK(sink.bytes.size() == 400000);
  CHECK(std::all_of(sink.bytes.begin(), sink.bytes.end(), [](uint8_t b) { return b == 0; }));
  CHECK(rig.device->stats().underrun_frames == 100000);
}

TEST_CASE("snd.stream: SET_PARAMS on a prepared stream gives queued TX buffers back IO_ERR", "[snd][SND-4][SND-6]") {
  SndRig rig;
  REQUIRE(rig.set_fixed_params(0).status == wire::kStatusOk);
  REQUIRE(rig.pcm_command(wire::kReqPcmPrepare, 0).status == wire::kStatusOk);
  rig.queue_tx(0, snd_pattern(10, 2, 1));
  rig.kick_tx();
  CHECK(rig.device->tx_pending() == 1);
  REQUIRE(rig.set_fixed_params(0).status == wire::kStatusOk);
  CHECK(rig.device->tx_pending() == 0);
  const auto done = rig.reap_tx();
  REQUIRE(done.size() == 1);
  CHECK(done[0].status == wire::kStatusIoErr);
}
