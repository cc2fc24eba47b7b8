// Transmit and receive through the real driver rings (NET-4..NET-7).
#include <catch2/catch.hpp>

#include "model/devices/net/testing/net_rig.hpp"
#include "model/devices/net/testing/net_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model::devices::testing;

TEST_CASE("net.header: zero RX header written, TX header ignored", "[net][NET-4]") {
  AEROV_CHECK_SCENARIO(check_net_header());
}

TEST_CASE("net.frames: 14..1522 bytes both ways, 13 and 1523 refused", "[net][NET-5]") {
  AEROV_CHECK_SCENARIO(check_net_frame_bounds());
}

TEST_CASE("net.tx: frames reach the backend byte-exactly, used.len 0", "[net][NET-6][DMA-2]") {
  AEROV_CHECK_SCENARIO(check_net_tx());
}

TEST_CASE("net.tx: bad chains dropped, completed, counted per cause", "[net][NET-6]") {
  AEROV_CHECK_SCENARIO(check_net_tx_drops());
}

TEST_CASE("net.rx: one frame per chain, used.len = 10 + length", "[net][NET-7][DMA-2]") {
  AEROV_CHECK_SCENARIO(check_net_rx());
}

TEST_CASE("net.rx: a chain too small keeps its place, the frame is dropped", "[net][NET-7]") {
  AEROV_CHECK_SCENARIO(check_net_rx_too_small());
}

TEST_CASE("net.rx: bounded host queue drops the oldest", "[net][NET-7]") {
  AEROV_CHECK_SCENARIO(check_net_rx_host_queue());
}

TEST_CASE("net.loopback: TX comes back as RX", "[net][NET-6][NET-7]") {
  AEROV_CHECK_SCENARIO(check_net_loopback());
}

TEST_CASE("net.ring-corruption: DEVICE_NEEDS_RESET, then traffic after reset", "[net][VQ-8][STAT-4]") {
  AEROV_CHECK_SCENARIO(check_net_ring_corruption_recovery());
}
