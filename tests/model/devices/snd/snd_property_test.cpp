// Properties over random traffic: random control sequences follow an
// independent model of the virtio-snd state machine; random playback
// (buffer sizes, stream time in random steps, pauses) reaches the sink
// byte-exactly with silence exactly where the device ran dry.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "model/devices/snd/testing/snd_rig.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace wire = aerov::model::devices::snd;

namespace {

// The model: which requests each state allows, and where they lead.
enum M { kIdle, kSet, kPrep, kRun, kStop, kRel };
const uint32_t kCodes[5] = {wire::kReqPcmSetParams, wire::kReqPcmPrepare, wire::kReqPcmStart, wire::kReqPcmStop,
                            wire::kReqPcmRelease};

bool model_step(M& s, int code) {
  static const bool allowed[6][5] = {{1, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {1, 1, 1, 0, 1},
                                     {0, 0, 0, 1, 0}, {0, 0, 1, 0, 1}, {1, 1, 0, 0, 0}};
  static const M after[5] = {kSet, kPrep, kRun, kStop, kRel};
  if (!allowed[s][code]) return false;
  s = after[code];
  return true;
}

}  // namespace

TEST_CASE("snd.property: random control sequences follow the state machine", "[snd][SND-4]") {
  rc::prop("device answers as the model says", [] {
    SndRig rig;
    M model[2] = {kIdle, kIdle};
    const auto steps = *rc::gen::inRange(1, 40);
    for (int i = 0; i < steps; ++i) {
      const auto stream = *rc::gen::inRange<uint32_t>(0, 2);
      const auto code = *rc::gen::inRange(0, 5);
      const CtlReply r = code == 0 ? rig.set_fixed_params(stream) : rig.pcm_command(kCodes[code], stream);
      const bool ok = model_step(model[stream], code);
      RC_ASSERT(r.completed);
      RC_ASSERT(r.status == (ok ? wire::kStatusOk : wire::kStatusBadMsg));
    }
  });
}

TEST_CASE("snd.property: random playback reaches the sink byte-exactly", "[snd][SND-6]") {
  rc::prop("sink = PCM in order, silence only on underrun", [] {
    backends::MemorySink sink;
    SndRig rig(SndRigOptions{.sink = &sink});
    RC_ASSERT(rig.open_and_start(0));
    std::vector<uint8_t> queued;  // PCM not yet played, in order
    std::vector<uint8_t> want;
    uint16_t slot = 0;
    uint64_t completed = 0;
    const auto steps = *rc::gen::inRange(1, 30);
    for (int i = 0; i < steps; ++i) {
      if (*rc::gen::arbitrary<bool>() && slot < 200) {
        const auto frames = *rc::gen::inRange<uint32_t>(0, 600);
        const auto pcm = snd_pattern(frames, 2, static_cast<uint16_t>(slot * 97));
        RC_ASSERT(rig.queue_tx(slot++, pcm) == aerov::virtqueue::DriverStatus::kOk);
        rig.kick_tx();
        queued.insert(queued.end(), pcm.begin(), pcm.end());
      } else {
        const auto frames = *rc::gen::inRange<uint32_t>(0, 800);
        const size_t take = std::min<size_t>(queued.size(), size_t{frames} * 4);
        want.insert(want.end(), queued.begin(), queued.begin() + static_cast<long>(take));
        queued.erase(queued.begin(), queued.begin() + static_cast<long>(take));
        want.insert(want.end(), size_t{frames} * 4 - take, 0);
        rig.advance(frames);
      }
      for (const PcmDone& d : rig.reap_tx()) {
        RC_ASSERT(d.status == wire::kStatusOk);
        ++completed;
      }
    }
    RC_ASSERT(sink.bytes == want);
    RC_ASSERT(completed + rig.device->tx_pending() == slot);
  });
}
