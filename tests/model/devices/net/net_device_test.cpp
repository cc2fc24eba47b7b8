// NetDevice as the transport sees it: queues (NET-1), features (NET-2),
// device configuration and link status (NET-3), reset.
#include <catch2/catch.hpp>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/devices/net/testing/net_rig.hpp"
#include "model/devices/net/testing/net_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;

TEST_CASE("net.device: rxq and txq of the contract's sizes, no control queue", "[net][NET-1]") {
  AEROV_CHECK_SCENARIO(check_net_queues());
}

TEST_CASE("net.device: offered features are exactly the contract's", "[net][NET-2][FEAT-1]") {
  AEROV_CHECK_SCENARIO(check_net_features());
}

TEST_CASE("net.device: device configuration layout through the transport", "[net][NET-3]") {
  AEROV_CHECK_SCENARIO(check_net_config_layout());
}

TEST_CASE("net.device: LINK_UP changes at run time", "[net][NET-3][CFG-4][IRQ-3]") {
  AEROV_CHECK_SCENARIO(check_net_link_status());
}

TEST_CASE("net.device: config reads at odd offsets and widths", "[net][NET-3]") {
  NetDevice dev(nullptr, {.mac = {1, 2, 3, 4, 5, 6}, .link_up = false});
  CHECK(dev.config_read(0, 4) == 0x04030201u);
  CHECK(dev.config_read(4, 4) == 0x0605u);       // mac[4..5], status 0 (link down)
  CHECK(dev.config_read(5, 2) == 0x0006u);
  CHECK(dev.config_read(8, 2) == 1u);             // max_virtqueue_pairs
  CHECK(dev.config_read(9, 2) == 0u);             // straddles the end: zeroes after
  CHECK(dev.config_read(10, 4) == 0u);
  CHECK(dev.config_read(0xFC, 4) == 0u);
  CHECK(dev.config_read(0xFFFFFFF0u, 8) == 0u);   // no overflow on a wild offset
  dev.set_link_up(true);  // not active: no transport to tell, still changes
  CHECK(dev.config_read(6, 2) == 1u);
}

TEST_CASE("net.device: identity through PCI config space", "[net][PCI-2][PCI-4][PCI-7]") {
  NetRig rig;
  const auto& spec = aerov::contract::kNet;
  CHECK(rig.pci->config_read(0x02, 2) == spec.device_id);
  CHECK(rig.pci->config_read(0x2E, 2) == spec.functions[0].subsystem_id);
  CHECK(rig.pci->config_read(0x0B, 1) == spec.class_base);
  CHECK(rig.device->device_type() == spec.virtio_type);
}

TEST_CASE("net.device: reset drops queued frames and a held RX chain", "[net][STAT-2][NET-7]") {
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer});
  rig.post_rx(0, 20);  // too small for any 60-byte frame: held
  rig.kick_rx();
  peer.inject(make_frame(60));
  CHECK(rig.device->holding_rx_chain());
  rig.device->deliver(make_frame(60));
  rig.recover();
  CHECK_FALSE(rig.device->holding_rx_chain());
  rig.post_rx_all(4);
  CHECK(rig.reap_rx().empty());  // nothing from before the reset
  peer.inject(make_frame(60, 1));
  const auto done = rig.reap_rx();
  REQUIRE(done.size() == 1);
  CHECK(rig.rx_frame(done[0]) == make_frame(60, 1));
}

TEST_CASE("net.device: frames wait while the driver is not running", "[net][NET-7][STAT-3]") {
  RecordingPeer peer;
  NetRig rig(NetRigOptions{.backend = &peer, .bring_up = false});
  peer.inject(make_frame(60, 3));  // no DRIVER_OK: on_rx_pending is gated by the transport
  CHECK(rig.device->host_queue_frames() == 1);
  REQUIRE(rig.bring_up() == aerov::transport::TransportError::kNone);
  // bring_up resets the device, which drops stale frames.
  CHECK(rig.device->host_queue_frames() == 0);
}
