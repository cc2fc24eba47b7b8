// The net core with MSI-X message interrupts (contract IRQ-4, DRV-2, STAT-4):
// vectors chosen by drivers/windows7/common/interrupts.hpp for two queues,
// every message the function sends handed to NetCore::message_interrupt.
// INTx stays quiet, ISR is never read, and refusals fall back to INTx.
#include <catch2/catch.hpp>

#include "tests/drivers/net_machine.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace {

using aerov::drivers::testing::NetMachine;
using aerov::drivers::testing::NetMachineOptions;
using aerov::drivers::testing::TestFrame;
using namespace aerov::drivers::windows7;

constexpr uint32_t kIsr = aerov::transport::bar0::kIsrOffset;

NetMachineOptions msix_options(uint16_t granted) {
  NetMachineOptions o;
  o.loopback = true;
  o.msix_vectors = 4;
  o.grant_messages = granted;
  return o;
}

// Loops frames through the device and back; true if INTx was ever up.
bool loop_frames(NetMachine& m, int count) {
  bool intx = false;
  for (int i = 0; i < count; ++i) {
    TestFrame& f = m.make(60 + static_cast<uint32_t>(i) * 11, {20, 0}, static_cast<uint32_t>(i));
    if (m.transmit(f) != NetError::kNone) FAIL("transmit refused");
    intx = intx || m.intx.level();
    m.service();
  }
  return intx;
}

size_t isr_reads(const NetMachine& m) { return m.os->mmio_reads_at(0, kIsr); }

}  // namespace

TEST_CASE("net core MSI-X: frames loop on granted messages, INTx quiet, ISR never read",
          "[drivers][net][IRQ-4][DRV-2]") {
  const uint16_t granted = GENERATE(1, 2, 3);
  NetMachine m(msix_options(granted));
  INFO("granted " << granted);
  CHECK(m.core.interrupt_mode() ==
        (granted == 1 ? InterruptMode::kMsixShared : InterruptMode::kMsixPerQueue));
  const size_t isr_before = isr_reads(m);
  CHECK_FALSE(loop_frames(m, 50));
  CHECK(m.received.size() == 50);
  CHECK(m.sent.size() == 50);
  for (const auto& f : m.frames) CHECK(f.completions == 1);
  CHECK(m.core.counters().messages > 0);
  CHECK(m.core.counters().interrupts == 0);
  CHECK(isr_reads(m) == isr_before);
  CHECK(m.unclaimed_messages == 0);
}

TEST_CASE("net core MSI-X: a message covering nothing is not claimed", "[drivers][net][IRQ-4]") {
  NetMachine m(msix_options(2));  // config on 0, both queues on 1
  CHECK_FALSE(m.core.message_interrupt(3));
  CHECK(m.core.counters().spurious == 1);
  CHECK(m.core.message_interrupt(1));
}

TEST_CASE("net core MSI-X: link changes arrive on the config message",
          "[drivers][net][IRQ-3][IRQ-4][NET-3][CFG-4]") {
  const uint16_t granted = GENERATE(1, 3);
  NetMachine m(msix_options(granted));
  m.device->set_link_up(false);
  CHECK_FALSE(m.intx.level());
  m.service();
  CHECK_FALSE(m.core.link_up());
  m.device->set_link_up(true);
  m.service();
  CHECK(m.core.link_up());
  CHECK(m.link_events == std::vector<bool>{false, true});
}

TEST_CASE("net core MSI-X: DEVICE_NEEDS_RESET is recovered through the config message",
          "[drivers][net][STAT-4][IRQ-4]") {
  NetMachine m(msix_options(3));
  m.hold_tx(true);
  for (int i = 0; i < 10; ++i) {
    if (m.transmit(m.make(60, {}, static_cast<uint32_t>(i))) != NetError::kNone) FAIL("refused");
  }
  m.hold_tx(false);
  m.function->set_needs_reset();
  CHECK_FALSE(m.intx.level());
  m.service();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.interrupt_mode() == InterruptMode::kMsixPerQueue);  // kept across the reset
  CHECK(m.sent.size() == 10);
  for (const auto& f : m.frames) CHECK(f.completions == 1);
  CHECK_FALSE(loop_frames(m, 5));
  CHECK(m.received.size() == 15);
}

TEST_CASE("net core MSI-X: messages granted but no MSI-X capability falls back to INTx",
          "[drivers][net][DRV-2][IRQ-1][IRQ-4]") {
  NetMachineOptions o = msix_options(2);
  o.msix_vectors = 0;  // the function has no MSI-X capability
  o.grant_messages = 0;
  NetMachine plain(o);
  CHECK(plain.core.interrupt_mode() == InterruptMode::kIntx);
  CHECK(loop_frames(plain, 10));  // works on INTx
  CHECK(plain.received.size() == 10);
}

TEST_CASE("net core MSI-X: every vector refused falls back to INTx",
          "[drivers][net][IRQ-1][IRQ-4][DRV-2]") {
  NetMachineOptions o = msix_options(3);
  o.init = false;
  NetMachine m(o);
  m.os->refuse_msix_vectors_from(0);
  REQUIRE(m.init() == NetError::kNone);
  CHECK(m.core.interrupt_mode() == InterruptMode::kIntx);
  CHECK(m.core.counters().vector_fallbacks == 2);
  CHECK(loop_frames(m, 10));
  CHECK(m.received.size() == 10);
}
