// virtio-input device model through the virtio-pci transport (contract
// section 8, INP-1..INP-9, PCI-6 and the VQ/STAT rules as an input device
// meets them). The scenarios and the hostile-guest table live in
// model/devices/input/testing, shared with tests/model/devices/input.
#include "conformance/suites/suites.hpp"
#include "model/devices/input/testing/input_scenarios.hpp"

namespace aerov::conformance {

namespace input_testing = aerov::model::devices::testing;

std::vector<Check> input_checks() {
  std::vector<Check> checks = {
      {"input.queues", {"INP-1", "FEAT-1"}, scenario(input_testing::check_input_queues)},
      {"input.config-selectors", {"INP-2"}, scenario(input_testing::check_input_config_selectors)},
      {"input.ids", {"INP-3"}, scenario(input_testing::check_input_ids)},
      {"input.events", {"INP-4", "DMA-2"}, scenario(input_testing::check_input_events)},
      {"input.keyboard", {"INP-5"}, scenario(input_testing::check_input_keyboard)},
      {"input.mouse", {"INP-6"}, scenario(input_testing::check_input_mouse)},
      {"input.tablet", {"INP-7"}, scenario(input_testing::check_input_tablet)},
      {"input.statusq", {"INP-8"}, scenario(input_testing::check_input_statusq)},
      {"input.backlog", {"INP-9"}, scenario(input_testing::check_input_backlog)},
      {"input.ring-corruption-recovery", {"VQ-8", "STAT-4"},
       scenario(input_testing::check_input_ring_corruption_recovery)},
      {"input.multi-function", {"PCI-6", "PCI-4"}, scenario(input_testing::check_input_multifunction)},
  };
  for (input_testing::InputHostileCase& c : input_testing::input_hostile_cases()) {
    checks.push_back({c.name, c.rules, [run = std::move(c.run)] { return outcome_of(run()); }});
  }
  return checks;
}

}  // namespace aerov::conformance
