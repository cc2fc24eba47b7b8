// virtio-snd device model through the virtio-pci transport (contract
// section 9, SND-1..SND-8, and the VQ/STAT rules as a sound device meets
// them). The scenarios and the hostile-guest table live in
// model/devices/snd/testing, shared with tests/model/devices/snd, so the
// rule table and the unit tests check the same things.
#include "conformance/suites/suites.hpp"
#include "model/devices/snd/testing/snd_scenarios.hpp"

namespace aerov::conformance {

namespace snd_testing = aerov::model::devices::testing;

std::vector<Check> snd_checks() {
  std::vector<Check> checks = {
      {"snd.queues", {"SND-1", "FEAT-1"}, scenario(snd_testing::check_snd_queues)},
      {"snd.config", {"SND-2"}, scenario(snd_testing::check_snd_config)},
      {"snd.pcm-info", {"SND-3", "SND-4"}, scenario(snd_testing::check_snd_pcm_info)},
      {"snd.set-params", {"SND-3", "SND-4"}, scenario(snd_testing::check_snd_set_params)},
      {"snd.state-machine", {"SND-4"}, scenario(snd_testing::check_snd_state_machine)},
      {"snd.control-malformed", {"SND-4"}, scenario(snd_testing::check_snd_control_malformed)},
      {"snd.eventq", {"SND-5"}, scenario(snd_testing::check_snd_eventq)},
      {"snd.playback", {"SND-6"}, scenario(snd_testing::check_snd_playback)},
      {"snd.underrun", {"SND-6"}, scenario(snd_testing::check_snd_underrun)},
      {"snd.capture", {"SND-7"}, scenario(snd_testing::check_snd_capture)},
      {"snd.payload-cap", {"SND-8"}, scenario(snd_testing::check_snd_payload_cap)},
  };
  // One check per hostile-guest case: each names the rules it exercises.
  for (snd_testing::SndHostileCase& c : snd_testing::snd_hostile_cases()) {
    checks.push_back({c.name, c.rules, [run = std::move(c.run)] { return outcome_of(run()); }});
  }
  return checks;
}

}  // namespace aerov::conformance
