// virtio-blk device model through the virtio-pci transport (contract
// section 6, BLK-1..BLK-8, and the VQ/STAT rules as a block device meets
// them). The scenarios and the hostile-guest table live in
// model/devices/blk/testing, shared with tests/model/devices/blk, so the
// rule table and the unit tests check the same things.
#include "conformance/suites/suites.hpp"
#include "model/devices/blk/testing/blk_scenarios.hpp"
#include "model/devices/blk/testing/hostile_cases.hpp"

namespace aerov::conformance {

namespace blk_testing = aerov::model::devices::testing;

std::vector<Check> blk_checks() {
  std::vector<Check> checks = {
      {"blk.queues", {"BLK-1"}, scenario(blk_testing::check_queues)},
      {"blk.features", {"BLK-2", "FEAT-1"}, scenario(blk_testing::check_features)},
      {"blk.config-layout", {"BLK-3"}, scenario(blk_testing::check_config_layout)},
      {"blk.driver-round-trip", {"BLK-4", "BLK-5", "DMA-2"},
       scenario(blk_testing::check_driver_round_trip)},
      {"blk.status-before-used", {"BLK-7", "VQ-6"}, scenario(blk_testing::check_status_before_used)},
      {"blk.out-of-order-completion", {"BLK-7", "VQ-5"},
       scenario(blk_testing::check_out_of_order_completion)},
      {"blk.flush-durability", {"BLK-8"}, scenario(blk_testing::check_flush_durability)},
      {"blk.ring-corruption-recovery", {"VQ-8", "STAT-4"},
       scenario(blk_testing::check_ring_corruption_recovery)},
  };
  // One check per hostile-guest case: each names the rules it exercises.
  for (blk_testing::HostileCase& c : blk_testing::hostile_cases()) {
    const std::string name = "blk.hostile-guest." + c.name;
    std::vector<std::string> rules = c.rules;
    checks.push_back({name, std::move(rules), [c = std::move(c)] {
                        Outcome out;
                        const std::string failure = blk_testing::run_hostile_case(c);
                        out.expect(failure.empty(), failure);
                        return out;
                      }});
  }
  return checks;
}

}  // namespace aerov::conformance
