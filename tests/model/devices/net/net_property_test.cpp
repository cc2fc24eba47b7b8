// Properties over random traffic: through a loopback backend, every frame
// the guest sends (with the chain split at random points, any length in or
// out of 14..1522) either comes back byte-exactly in its own RX chain or is
// dropped and counted, in order; every TX chain completes with used.len 0.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>

#include "model/devices/net/testing/net_rig.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace vq = aerov::virtqueue;

TEST_CASE("net.property: loopback round trip of random frames and splits", "[net][NET-5][NET-6][NET-7]") {
  rc::prop("frames come back or are counted", [] {
    backends::LoopbackPeer peer;
    NetRig rig(NetRigOptions{.backend = &peer});
    rig.post_rx_all(64);
    const auto count = *rc::gen::inRange<uint16_t>(1, 48);
    std::vector<std::vector<uint8_t>> expected;
    uint64_t dropped = 0;
    for (uint16_t i = 0; i < count; ++i) {
      const auto len = *rc::gen::inRange<uint32_t>(0, 1600);
      const auto frame = make_frame(len, static_cast<uint8_t>(i));
      std::vector<uint8_t> stream(net::kHeaderBytes, 0);
      stream.insert(stream.end(), frame.begin(), frame.end());
      // Split the header+frame stream at up to 3 random cut points.
      auto cuts = *rc::gen::container<std::vector<uint32_t>>(
          3, rc::gen::inRange<uint32_t>(0, static_cast<uint32_t>(stream.size()) + 1));
      cuts.push_back(0);
      cuts.push_back(static_cast<uint32_t>(stream.size()));
      std::sort(cuts.begin(), cuts.end());
      const uint64_t base = rig.tx_buf(i);
      rig.poke(base, stream);
      std::vector<vq::Segment> segs;
      for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        if (cuts[k + 1] > cuts[k]) segs.push_back({base + cuts[k], cuts[k + 1] - cuts[k], false});
      }
      RC_ASSERT(rig.send_segments(i, segs) == vq::DriverStatus::kOk);
      if (len >= 14 && len <= 1522) {
        expected.push_back(frame);
      } else {
        ++dropped;
      }
    }
    rig.kick_tx();
    const auto tx = rig.reap_tx();
    RC_ASSERT(tx.size() == count);
    for (const auto& t : tx) RC_ASSERT(t.second == 0u);
    const auto rx = rig.reap_rx();
    RC_ASSERT(rx.size() == expected.size());
    for (size_t k = 0; k < rx.size(); ++k) {
      RC_ASSERT(rx[k].len == net::kHeaderBytes + expected[k].size());
      RC_ASSERT(rig.rx_frame(rx[k]) == expected[k]);
      RC_ASSERT(rig.rx_header(rx[k]) == std::vector<uint8_t>(net::kHeaderBytes, 0));
    }
    const NetStats& s = rig.device->stats();
    RC_ASSERT(s.tx_runt + s.tx_oversize + s.tx_short_header == dropped);
    RC_ASSERT(!rig.needs_reset());
  });
}
