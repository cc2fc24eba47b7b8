// Hostile guests on raw rings: every case asserts the exact outcome and that
// the device keeps working (INP-4, INP-8, VQ-7, VQ-8). The table is shared
// with the conformance suite.
#include <catch2/catch.hpp>

#include "model/devices/input/testing/input_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model::devices::testing;

TEST_CASE("input.hostile: every case", "[input][INP-4][INP-8][VQ-7][VQ-8]") {
  for (const InputHostileCase& c : input_hostile_cases()) {
    SECTION(c.name) { AEROV_CHECK_SCENARIO(c.run()); }
  }
}
