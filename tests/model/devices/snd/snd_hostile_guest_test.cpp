// Hostile guests on raw rings: every case asserts the exact outcome and that
// the device keeps working (SND-4..SND-8, VQ-7). The table is shared with
// the conformance suite.
#include <catch2/catch.hpp>

#include "model/devices/snd/testing/snd_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model::devices::testing;

TEST_CASE("snd.hostile: every case", "[snd][SND-4][SND-5][SND-6][SND-7][VQ-7]") {
  for (const SndHostileCase& c : snd_hostile_cases()) {
    SECTION(c.name) { AEROV_CHECK_SCENARIO(c.run()); }
  }
}

TEST_CASE("snd.hostile: the table covers control, eventq, txq and rxq", "[snd][SND-4][SND-5]") {
  int ctl = 0, evt = 0, tx = 0, rx = 0;
  for (const SndHostileCase& c : snd_hostile_cases()) {
    ctl += c.name.find(".ctl-") != std::string::npos;
    evt += c.name.find(".eventq-") != std::string::npos;
    tx += c.name.find(".tx-") != std::string::npos;
    rx += c.name.find(".rx-") != std::string::npos;
  }
  CHECK(ctl >= 4);
  CHECK(evt >= 1);
  CHECK(tx >= 5);
  CHECK(rx >= 3);
}
