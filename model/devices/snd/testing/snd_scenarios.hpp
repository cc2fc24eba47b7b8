// virtio-snd scenarios shared by the Catch2 tests and the conformance suite.
// Each runs on fresh SndRig machines, through the real transport and the
// real driver rings (or raw hostile rings), and returns what went wrong
// (empty: passed).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "transport/testing/scenario_text.hpp"

namespace aerov::model::devices::testing {

using Failures = transport::testing::Failures;

// SND-1: four queues of sizes 64, 64, 256, 64; VERSION_1 and INDIRECT_DESC.
Failures check_snd_queues();
// SND-2: jacks 0, streams 2, chmaps 0, zeroes after, writes ignored.
Failures check_snd_config();
// SND-3, SND-4: PCM_INFO describes stream 0 (output, 2 ch) and stream 1
// (input, 1 ch), S16 at 48000 only; bad queries answer BAD_MSG.
Failures check_snd_pcm_info();
// SND-3, SND-4: SET_PARAMS accepts only the fixed parameters.
Failures check_snd_set_params();
// SND-4: every request in every state answers as virtio's state machine says.
Failures check_snd_state_machine();
// SND-4: short, oversized, wrong-stream, unknown and response-less requests.
Failures check_snd_control_malformed();
// SND-5: eventq buffers are held, never completed, returned at reset.
Failures check_snd_eventq();
// SND-6: playback in order, byte-exact, each buffer completing OK only once
// played in virtual time; queued buffers wait while stopped.
Failures check_snd_playback();
// SND-6: an underrun plays silence, is counted, and playback continues.
Failures check_snd_underrun();
// SND-7: capture fills buffers from the source while running; IO_ERR when
// stream 1 is not running; STOP returns partly filled buffers.
Failures check_snd_capture();
// SND-8: payloads over 262144 bytes complete BAD_MSG on txq and rxq.
Failures check_snd_payload_cap();

struct SndHostileCase {
  std::string name;                // "snd.hostile.tx-writable-header"
  std::vector<std::string> rules;  // contract rule IDs
  std::function<Failures()> run;
};
std::vector<SndHostileCase> snd_hostile_cases();

}  // namespace aerov::model::devices::testing
