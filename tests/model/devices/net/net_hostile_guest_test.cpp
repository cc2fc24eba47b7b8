// Hostile guests on raw rings: every case asserts the exact outcome and that
// the device keeps working (NET-6, NET-7, VQ-7). The table is shared with
// the conformance suite.
#include <catch2/catch.hpp>

#include "model/devices/net/testing/net_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model::devices::testing;

TEST_CASE("net.hostile: every case", "[net][NET-6][NET-7][VQ-7]") {
  for (const NetHostileCase& c : net_hostile_cases()) {
    SECTION(c.name) { AEROV_CHECK_SCENARIO(c.run()); }
  }
}
