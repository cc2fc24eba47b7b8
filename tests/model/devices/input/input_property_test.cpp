// Properties over random injection and random buffer posting: every event
// the guest receives has used.len 8; what it receives is the injected
// stream with whole batches left out (each ending in SYN_REPORT); and
// queued = delivered + dropped + pending at every step (INP-4, INP-9).
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <deque>
#include <vector>

#include "model/devices/input/testing/input_rig.hpp"

using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace in = aerov::model::devices::input;

TEST_CASE("input.property: delivered events are whole injected batches in order", "[input][INP-4][INP-9]") {
  rc::prop("batches arrive whole or are dropped whole", [] {
    InputRig rig(InputRigOptions{.device = {.kind = in::InputKind::kMouse}});
    std::vector<std::vector<in::Event>> injected;  // every batch, SYN included
    std::vector<in::Event> received;
    uint32_t tag = 1;
    const auto steps = *rc::gen::inRange(1, 200);
    std::deque<uint16_t> free_slots;
    for (uint16_t s = 0; s < InputRig::kQueueSize; ++s) free_slots.push_back(s);
    for (int i = 0; i < steps; ++i) {
      if (*rc::gen::inRange(0, 4) == 0) {
        // Post some buffers, reap what arrives.
        const auto n = *rc::gen::inRange<size_t>(0, free_slots.size() + 1);
        for (size_t k = 0; k < n; ++k) {
          RC_ASSERT(rig.post_event(free_slots.front()) == aerov::virtqueue::DriverStatus::kOk);
          free_slots.pop_front();
        }
        rig.kick(InputDevice::kEventQueue);
      } else {
        // A batch of 1..40 events with distinct values, possibly many to overflow.
        const auto len = *rc::gen::inRange(1, 40);
        const auto repeat = *rc::gen::inRange(1, 300);
        for (int r = 0; r < repeat; ++r) {
          std::vector<in::Event> b;
          for (int k = 0; k < len; ++k) b.push_back({in::kEvRel, in::kRelX, tag++});
          RC_ASSERT(rig.device->inject(b));
          b.push_back({in::kEvSyn, in::kSynReport, 0});
          injected.push_back(b);
        }
      }
      for (const auto& c : rig.reap_events()) {
        RC_ASSERT(c.len == in::kEventBytes);
        received.push_back(c.event);
        free_slots.push_back(c.slot);
      }
      const InputStats& st = rig.device->stats();
      RC_ASSERT(st.events_queued == st.events_delivered + st.events_dropped + rig.device->pending_events());
      RC_ASSERT(rig.device->pending_events() <= InputDevice::kPendingEvents);
    }
    // Match received against injected: each batch either fully present (in
    // order) or entirely absent, except the last one, which may be in flight.
    size_t at = 0;
    for (const auto& batch : injected) {
      if (at == received.size()) break;
      if (received[at].type == batch[0].type && received[at].value == batch[0].value) {
        for (const in::Event& e : batch) {
          if (at == received.size()) break;  // still in flight
          RC_ASSERT(received[at].type == e.type && received[at].code == e.code && received[at].value == e.value);
          ++at;
        }
      }
    }
    RC_ASSERT(at == received.size());
  });
}
