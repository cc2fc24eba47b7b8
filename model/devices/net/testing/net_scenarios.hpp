// virtio-net scenarios shared by the Catch2 tests and the conformance suite.
// Each runs on fresh NetRig machines, through the real transport and the
// real driver ring (or a raw hostile ring), and returns what went wrong
// (empty: passed).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "transport/testing/scenario_text.hpp"

namespace aerov::model::devices::testing {

using Failures = transport::testing::Failures;

// NET-1: rxq (0) and txq (1) of the contract's sizes, no third queue.
Failures check_net_queues();
// NET-2, FEAT-1: offered features are exactly the contract's.
Failures check_net_features();
// NET-3: mac, status, max_virtqueue_pairs and zeroes after, at every width;
// writes ignored.
Failures check_net_config_layout();
// NET-3, CFG-4, IRQ-3: LINK_UP changes at run time bump config_generation
// and raise a config interrupt; link down drops traffic, counted.
Failures check_net_link_status();
// NET-4: the device writes a zero RX header over whatever was there, and
// ignores a non-zero TX header.
Failures check_net_header();
// NET-5: 14- and 1522-byte frames pass both ways; 13 and 1523 do not.
Failures check_net_frame_bounds();
// NET-6: TX frames reach the backend byte-exactly (split across any
// descriptors), every chain completes with used.len 0.
Failures check_net_tx();
// NET-6: a runt, an oversize frame, a WRITE descriptor and a short header
// are dropped, completed with used.len 0 and counted per cause; the device
// keeps transmitting.
Failures check_net_tx_drops();
// NET-7: one frame per chain, header then frame, used.len = 10 + length,
// in order, also scattered over several descriptors and above 4 GiB.
Failures check_net_rx();
// NET-7: a chain too small for the frame keeps its place; the frame is
// dropped and counted; the next frame that fits uses that same chain.
Failures check_net_rx_too_small();
// NET-7 (P): 256 frames wait while no chain is posted; beyond that the
// oldest is dropped and counted.
Failures check_net_rx_host_queue();
// NET-6, NET-7: loopback backend: what the guest sends comes back.
Failures check_net_loopback();
// VQ-8, STAT-4: rxq/txq corruption sets DEVICE_NEEDS_RESET; after the
// driver resets, traffic flows again.
Failures check_net_ring_corruption_recovery();

// Hostile-guest cases on raw rings: each asserts the exact outcome and
// that the device keeps working afterwards.
struct NetHostileCase {
  std::string name;                // "net.hostile.tx-writable"
  std::vector<std::string> rules;  // contract rule IDs
  std::function<Failures()> run;
};
std::vector<NetHostileCase> net_hostile_cases();

}  // namespace aerov::model::devices::testing
