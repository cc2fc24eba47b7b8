// virtio-input scenarios shared by the Catch2 tests and the conformance
// suite. Each runs on fresh InputRig machines, through the real transport and
// the real driver ring (or a raw hostile ring), and returns what went wrong
// (empty: passed).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "transport/testing/scenario_text.hpp"

namespace aerov::model::devices::testing {

using Failures = transport::testing::Failures;

// INP-1, FEAT-1: eventq and statusq of 64 entries, no third queue; features
// exactly the contract's offer (VERSION_1, INDIRECT_DESC).
Failures check_input_queues();
// INP-2: select/subsel are writable, size and payload are not; unknown
// selectors, ID_SERIAL, PROP_BITS, EV_BITS of unadvertised types and ABS_INFO
// off the tablet read size 0 and a zero payload, for every function.
Failures check_input_config_selectors();
// INP-3: names and DEVIDS of the three functions.
Failures check_input_ids();
// INP-4: one 8-byte event per used entry, used.len 8, bytes after the
// event untouched, every batch ends with SYN_REPORT, also over a buffer
// split across descriptors and above 4 GiB.
Failures check_input_events();
// INP-5: the keyboard advertises EV_SYN, EV_KEY, EV_LED (no EV_REP), every
// contract key and LED; presses are 1, releases 0; unadvertised codes are
// refused and counted.
Failures check_input_keyboard();
// INP-6: the mouse advertises EV_SYN, EV_KEY, EV_REL, X/Y/WHEEL/HWHEEL and
// five buttons; moves, wheel and buttons reach the guest as events.
Failures check_input_mouse();
// INP-7: the tablet advertises EV_SYN, EV_KEY (BTN_TOUCH), EV_ABS with
// ABS_INFO min/max for ABS_X and ABS_Y; positions are clamped to them.
Failures check_input_tablet();
// INP-8: statusq buffers are all consumed and completed; LED events update
// the LED state and reach the host hook; other events are counted.
Failures check_input_statusq();
// INP-9: 4096 events wait with no buffer posted; beyond that the oldest
// whole batch is dropped and counted; a partly delivered batch is never cut.
Failures check_input_backlog();
// VQ-8, STAT-4: eventq corruption sets DEVICE_NEEDS_RESET; after the driver
// resets, events flow again.
Failures check_input_ring_corruption_recovery();
// PCI-6, PCI-4: keyboard on function 0 with the multi-function bit, mouse on
// function 1, optional tablet on function 2, each its own virtio function.
Failures check_input_multifunction();

// Hostile-guest cases on raw rings: each asserts the exact outcome and that
// the device keeps working afterwards.
struct InputHostileCase {
  std::string name;                // "input.hostile.event-too-small"
  std::vector<std::string> rules;  // contract rule IDs
  std::function<Failures()> run;
};
std::vector<InputHostileCase> input_hostile_cases();

}  // namespace aerov::model::devices::testing
