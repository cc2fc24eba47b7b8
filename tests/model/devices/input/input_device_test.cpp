// InputDevice through the transport: queues and features (INP-1), the
// configuration selectors (INP-2, INP-3), events (INP-4..INP-7), statusq
// (INP-8), the backlog (INP-9), recovery and the multi-function device
// (PCI-6). The scenarios are shared with the conformance suite; the cases
// below them poke the device directly.
#include <catch2/catch.hpp>

#include "model/devices/input/testing/input_rig.hpp"
#include "model/devices/input/testing/input_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace in = aerov::model::devices::input;

TEST_CASE("input.device: eventq and statusq of 64 entries, VERSION_1 + INDIRECT_DESC", "[input][INP-1][FEAT-1]") {
  AEROV_CHECK_SCENARIO(check_input_queues());
}

TEST_CASE("input.device: selectors, sizes and read-only payload", "[input][INP-2]") {
  AEROV_CHECK_SCENARIO(check_input_config_selectors());
}

TEST_CASE("input.device: names and DEVIDS of the three functions", "[input][INP-3]") {
  AEROV_CHECK_SCENARIO(check_input_ids());
}

TEST_CASE("input.device: one 8-byte event per used entry, batches end in SYN_REPORT", "[input][INP-4][DMA-2]") {
  AEROV_CHECK_SCENARIO(check_input_events());
}

TEST_CASE("input.device: keyboard keys, LEDs and press/release values", "[input][INP-5]") {
  AEROV_CHECK_SCENARIO(check_input_keyboard());
}

TEST_CASE("input.device: mouse axes, wheel and five buttons", "[input][INP-6]") {
  AEROV_CHECK_SCENARIO(check_input_mouse());
}

TEST_CASE("input.device: tablet ABS_INFO and clamped positions", "[input][INP-7]") {
  AEROV_CHECK_SCENARIO(check_input_tablet());
}

TEST_CASE("input.device: statusq buffers consumed, LEDs reported", "[input][INP-8]") {
  AEROV_CHECK_SCENARIO(check_input_statusq());
}

TEST_CASE("input.device: bounded backlog drops whole batches only", "[input][INP-9]") {
  AEROV_CHECK_SCENARIO(check_input_backlog());
}

TEST_CASE("input.device: eventq corruption, needs-reset and recovery", "[input][VQ-8][STAT-4]") {
  AEROV_CHECK_SCENARIO(check_input_ring_corruption_recovery());
}

TEST_CASE("input.device: keyboard, mouse and tablet on one multi-function device", "[input][PCI-6][PCI-4]") {
  AEROV_CHECK_SCENARIO(check_input_multifunction());
}

TEST_CASE("input.device: config window read directly at every width", "[input][INP-2]") {
  InputDevice dev({.kind = in::InputKind::kTablet, .abs_min = 1, .abs_max = 0x01020304});
  dev.config_write(0, 1, in::kSelectAbsInfo);
  dev.config_write(1, 1, in::kAbsY);
  CHECK(dev.config_read(0, 4) == (0x12u | (1u << 8) | (20u << 16)));
  CHECK(dev.config_read(8, 8) == 0x0102030400000001ull);
  CHECK(dev.config_read(12, 2) == 0x0304u);
  CHECK(dev.config_read(134, 4) == 0u);  // payload tail then the end
  CHECK(dev.config_read(136, 1) == 0u);
  dev.config_write(2, 4, 0xFFFFFFFFu);  // size and reserved bytes: ignored
  CHECK(dev.config_read(0, 4) == (0x12u | (1u << 8) | (20u << 16)));
  dev.config_write(0, 8, 0x0000000000000111ull);  // select 0x11, subsel 1 (EV_KEY)
  CHECK(dev.config_read(0, 2) == 0x0111u);
  CHECK(dev.config_read(2, 1) == 0x14a / 8 + 1);  // BTN_TOUCH is the only key
  // Reset clears the selection.
  dev.reset();
  CHECK(dev.config_read(0, 4) == 0u);
}

TEST_CASE("input.device: an oversized batch is refused whole", "[input][INP-4][INP-9]") {
  InputDevice dev({.kind = in::InputKind::kMouse});
  std::vector<in::Event> batch(InputDevice::kMaxBatchEvents - 1, in::Event{in::kEvRel, in::kRelX, 1});
  CHECK(dev.inject(batch));
  CHECK(dev.pending_events() == InputDevice::kMaxBatchEvents);
  batch.push_back(batch.back());
  CHECK_FALSE(dev.inject(batch));
  CHECK(dev.stats().refused == 1);
  CHECK(dev.pending_events() == InputDevice::kMaxBatchEvents);
  const in::Event syn{in::kEvSyn, in::kSynReport, 0};
  CHECK_FALSE(dev.inject({&syn, 1}));  // SYN_REPORT is the device's to add
}
