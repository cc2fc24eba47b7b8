// virtio-net device model through the virtio-pci transport (contract
// section 7, NET-1..NET-7, and the VQ/STAT rules as a network device meets
// them). The scenarios and the hostile-guest table live in
// model/devices/net/testing, shared with tests/model/devices/net, so the
// rule table and the unit tests check the same things.
#include "conformance/suites/suites.hpp"
#include "model/devices/net/testing/net_scenarios.hpp"

namespace aerov::conformance {

namespace net_testing = aerov::model::devices::testing;

std::vector<Check> net_checks() {
  std::vector<Check> checks = {
      {"net.queues", {"NET-1"}, scenario(net_testing::check_net_queues)},
      {"net.features", {"NET-2", "FEAT-1"}, scenario(net_testing::check_net_features)},
      {"net.config-layout", {"NET-3"}, scenario(net_testing::check_net_config_layout)},
      {"net.link-status", {"NET-3", "CFG-4", "IRQ-3"}, scenario(net_testing::check_net_link_status)},
      {"net.header", {"NET-4"}, scenario(net_testing::check_net_header)},
      {"net.frame-bounds", {"NET-5"}, scenario(net_testing::check_net_frame_bounds)},
      {"net.tx", {"NET-6", "DMA-2"}, scenario(net_testing::check_net_tx)},
      {"net.tx-drops", {"NET-6"}, scenario(net_testing::check_net_tx_drops)},
      {"net.rx", {"NET-7", "DMA-2"}, scenario(net_testing::check_net_rx)},
      {"net.rx-too-small", {"NET-7"}, scenario(net_testing::check_net_rx_too_small)},
      {"net.rx-host-queue", {"NET-7"}, scenario(net_testing::check_net_rx_host_queue)},
      {"net.loopback", {"NET-6", "NET-7"}, scenario(net_testing::check_net_loopback)},
      {"net.ring-corruption-recovery", {"VQ-8", "STAT-4"},
       scenario(net_testing::check_net_ring_corruption_recovery)},
  };
  // One check per hostile-guest case: each names the rules it exercises.
  for (net_testing::NetHostileCase& c : net_testing::net_hostile_cases()) {
    checks.push_back({c.name, c.rules, [run = std::move(c.run)] { return outcome_of(run()); }});
  }
  return checks;
}

}  // namespace aerov::conformance
