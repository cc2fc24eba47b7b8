// The blk core with MSI-X message interrupts (contract IRQ-4, DRV-2, STAT-4):
// the platform grants messages as Windows PnP would (table programmed
// through BAR0, MSI-X Enable set), the core picks vectors through
// drivers/windows7/common/interrupts.hpp, and every message the function
// sends goes to BlkCore::message_interrupt. INTx must stay quiet and the
// core must not read ISR; refusals fall back as the plan says.
#include <catch2/catch.hpp>

#include "tests/drivers/blk_machine.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace {

using aerov::drivers::testing::BlkMachine;
using aerov::drivers::testing::BlkMachineOptions;
using aerov::drivers::testing::TestRequest;
using namespace aerov::drivers::windows7;
namespace transport = aerov::transport;

constexpr uint32_t kIsr = transport::bar0::kIsrOffset;
constexpr uint32_t kTable = transport::VirtioPciFunction::kMsixTableOffset;

BlkMachineOptions msix_options(uint16_t granted) {
  BlkMachineOptions o;
  o.msix_vectors = 4;
  o.grant_messages = granted;
  return o;
}

std::vector<uint32_t> sectors(uint32_t n) { return {n * 512}; }
bool same(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) { return a == b; }

void submit_ok(BlkMachine& m, TestRequest& r) {
  const BlkError e = m.submit(r);
  if (e != BlkError::kNone) FAIL("submit refused: " << to_string(e));
}

void require_each_completed_once(const BlkMachine& m) {
  size_t not_once = 0, failed = 0;
  for (const auto& r : m.requests) {
    not_once += r.completions != 1;
    failed += r.result != BlkResult::kSuccess;
  }
  REQUIRE(not_once == 0);
  REQUIRE(failed == 0);
  REQUIRE(m.stray_completions == 0);
  REQUIRE(m.core.counters().completed == m.requests.size());
  REQUIRE(m.core.in_flight_chains() == 0);
  REQUIRE(m.core.pending_count() == 0);
}

// service() that also watches INTx after every step; returns whether the
// line was ever up.
bool service_watching_intx(BlkMachine& m, int max_rounds = 100000) {
  bool asserted = false;
  for (int round = 0; round < max_rounds; ++round) {
    bool progress = false;
    if (m.device->in_flight() != 0 && m.function->queue_enabled(0)) {
      m.function->process_queue(0);
      progress = true;
    }
    asserted = asserted || m.intx.level();
    if (m.deliver_messages() != 0) progress = true;
    asserted = asserted || m.intx.level();
    if (!progress) break;
  }
  return asserted;
}

// Writes then reads back `count` requests of various shapes.
void round_trips(BlkMachine& m, int count, bool* intx_seen) {
  std::vector<TestRequest*> writes;
  for (int i = 0; i < count; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 8, {512, 1024, 2048},
                            static_cast<uint32_t>(40 + i));
    submit_ok(m, w);
    writes.push_back(&w);
  }
  *intx_seen = service_watching_intx(m) || *intx_seen;
  TestRequest& f = m.make_flush();
  submit_ok(m, f);
  *intx_seen = service_watching_intx(m) || *intx_seen;
  for (TestRequest* w : writes) {
    TestRequest& r = m.make(BlkOp::kRead, w->req.sector, {1536, 2048}, 1);
    submit_ok(m, r);
    *intx_seen = service_watching_intx(m) || *intx_seen;
    CHECK(same(m.buffer_bytes(r), w->data));
  }
}

uint16_t device_vector(BlkMachine& m, uint32_t reg) {
  return static_cast<uint16_t>(m.os->mmio_read(0, reg, 2));
}

}  // namespace

TEST_CASE("blk core MSI-X: round trips on granted messages, INTx quiet, ISR never read",
          "[drivers][blk][msix][IRQ-4][DRV-2]") {
  const uint16_t granted = GENERATE(uint16_t{1}, uint16_t{2});
  CAPTURE(granted);
  BlkMachine m(msix_options(granted));
  REQUIRE(m.function->msix() != nullptr);
  CHECK(m.function->msix()->enabled());
  REQUIRE(m.core.ready());
  const InterruptPlan& plan = m.core.interrupt_plan();
  if (granted == 1) {
    CHECK(m.core.interrupt_mode() == InterruptMode::kMsixShared);
    CHECK(plan.queue_vector(0) == 0);
  } else {
    CHECK(m.core.interrupt_mode() == InterruptMode::kMsixPerQueue);
    CHECK(plan.queue_vector(0) == 1);
  }
  CHECK(plan.config_vector() == 0);
  CHECK(m.core.counters().vector_fallbacks == 0);
  // What the device holds: msix_config and the requestq's vector.
  CHECK(device_vector(m, transport::common::kMsixConfig) == 0);
  m.os->mmio_write(0, transport::common::kQueueSelect, 2, 0);
  CHECK(device_vector(m, transport::common::kQueueMsixVector) == plan.queue_vector(0));

  bool intx_seen = false;
  round_trips(m, 40, &intx_seen);
  CHECK_FALSE(intx_seen);
  require_each_completed_once(m);
  CHECK(m.os->mmio_reads_at(0, kIsr) == 0);
  CHECK(m.core.counters().interrupts == 0);
  CHECK(m.core.counters().messages > 0);
  CHECK(m.msi_delivered > 0);
  CHECK(m.unclaimed_messages == 0);
  CHECK(m.core.counters().resets == 0);
  CHECK(m.core.counters().config_changes == 0);
}

TEST_CASE("blk core MSI-X: a message that covers nothing is not claimed",
          "[drivers][blk][msix][IRQ-4]") {
  BlkMachine m(msix_options(2));
  CHECK_FALSE(m.core.message_interrupt(2));
  CHECK_FALSE(m.core.message_interrupt(0xFFFF));
  CHECK(m.core.counters().spurious == 2);
  CHECK(m.os->mmio_reads_at(0, kIsr) == 0);
}

TEST_CASE("blk core MSI-X: DEVICE_NEEDS_RESET mid-flight is recovered through the config message",
          "[drivers][blk][msix][STAT-4][IRQ-4][DRV-2]") {
  const uint16_t granted = GENERATE(uint16_t{1}, uint16_t{2});
  CAPTURE(granted);
  BlkMachineOptions o = msix_options(granted);
  o.faulty = true;
  o.faulty_options.seed = 91;
  o.faulty_options.min_delay = 20;
  o.faulty_options.max_delay = 400;
  BlkMachine m(o);
  const InterruptMode mode = m.core.interrupt_mode();
  std::vector<TestRequest*> writes;
  for (int i = 0; i < 150; ++i) {
    TestRequest& w = m.make(BlkOp::kWrite, static_cast<uint64_t>(i) * 4, {1536, 512}, 500 + i);
    submit_ok(m, w);
    writes.push_back(&w);
  }
  for (int i = 0; i < 3; ++i) {
    m.function->process_queue(0);
    m.deliver_messages();
  }
  CHECK(m.core.counters().completed < 150);
  m.function->set_needs_reset();
  CHECK_FALSE(m.intx.level());
  REQUIRE(m.msi_messages.size() == 1);
  CHECK(m.msi_messages.front().data == 0);  // the config vector
  const bool intx_seen = service_watching_intx(m);
  CHECK_FALSE(intx_seen);
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.counters().reissued > 0);
  require_each_completed_once(m);
  // The reset cleared the device's vectors; bring-up programmed them again.
  CHECK(m.core.interrupt_mode() == mode);
  CHECK(device_vector(m, transport::common::kMsixConfig) == 0);
  for (int i = 0; i < 150; ++i) {
    CHECK(same(m.disk_bytes(static_cast<uint64_t>(i) * 4, 4), writes[static_cast<size_t>(i)]->data));
  }
  CHECK(m.os->mmio_reads_at(0, kIsr) == 0);
  CHECK(m.os->logged("needs reset"));
}

TEST_CASE("blk core MSI-X: a config message without NEEDS_RESET re-reads the config",
          "[drivers][blk][msix][IRQ-3][IRQ-4][CFG-4]") {
  const uint16_t granted = GENERATE(uint16_t{1}, uint16_t{2});
  CAPTURE(granted);
  BlkMachine m(msix_options(granted));
  m.function->config_changed();
  CHECK_FALSE(m.intx.level());
  CHECK(m.deliver_messages() == 1);
  CHECK(m.core.counters().config_changes == 1);
  CHECK(m.core.counters().resets == 0);
  // A queue-only message (shared: message 0 without a generation change)
  // is not a config change.
  TestRequest& r = m.make(BlkOp::kRead, 8191, sectors(1));
  submit_ok(m, r);
  CHECK_FALSE(service_watching_intx(m));
  CHECK(m.core.counters().config_changes == 1);
  require_each_completed_once(m);
  CHECK(m.os->mmio_reads_at(0, kIsr) == 0);
}

TEST_CASE("blk core MSI-X: messages granted but no MSI-X capability falls back to INTx",
          "[drivers][blk][msix][DRV-2][IRQ-1][IRQ-4]") {
  BlkMachineOptions o;
  o.msix_vectors = 0;
  o.init = false;
  BlkMachine m(o);
  CHECK_FALSE(m.os->grant_msix_messages(2));
  CHECK(m.os->msix_messages_granted() == 2);
  REQUIRE(m.init() == BlkError::kNone);
  CHECK(m.core.interrupt_mode() == InterruptMode::kIntx);
  CHECK(m.core.counters().vector_fallbacks >= 1);
  TestRequest& w = m.make(BlkOp::kWrite, 10, sectors(4), 3);
  submit_ok(m, w);
  CHECK(m.intx.level());
  m.service();
  CHECK_FALSE(m.intx.level());
  CHECK(m.core.counters().interrupts > 0);
  CHECK(same(m.disk_bytes(10, 4), w.data));
  require_each_completed_once(m);
  // The glue's message routine would still reach the core: it reads ISR.
  CHECK_FALSE(m.core.message_interrupt(0));
}

TEST_CASE("blk core MSI-X: a refused queue vector falls back to one shared message",
          "[drivers][blk][msix][IRQ-4][DRV-2]") {
  BlkMachineOptions o = msix_options(2);
  o.init = false;
  BlkMachine m(o);
  m.os->refuse_msix_vectors_from(1);  // a device with one usable vector
  REQUIRE(m.init() == BlkError::kNone);
  CHECK(m.core.interrupt_mode() == InterruptMode::kMsixShared);
  CHECK(m.core.counters().vector_fallbacks == 1);
  CHECK(m.os->logged("refused MSI-X"));
  bool intx_seen = false;
  round_trips(m, 8, &intx_seen);
  CHECK_FALSE(intx_seen);
  require_each_completed_once(m);
  CHECK(m.os->mmio_reads_at(0, kIsr) == 0);
}

TEST_CASE("blk core MSI-X: every vector refused falls back to INTx with MSI-X disabled",
          "[drivers][blk][msix][IRQ-1][IRQ-4][DRV-2][STAT-4]") {
  BlkMachineOptions o = msix_options(2);
  o.init = false;
  BlkMachine m(o);
  m.os->refuse_msix_vectors_from(0);
  REQUIRE(m.init() == BlkError::kNone);
  CHECK(m.core.interrupt_mode() == InterruptMode::kIntx);
  CHECK(m.core.counters().vector_fallbacks == 2);
  CHECK_FALSE(m.function->msix()->enabled());
  TestRequest& w = m.make(BlkOp::kWrite, 20, sectors(2), 9);
  submit_ok(m, w);
  CHECK(m.intx.level());
  m.service();
  CHECK(same(m.disk_bytes(20, 2), w.data));
  CHECK(m.msi_delivered == 0);
  // A reset keeps the fallback (the plan does not climb back up).
  m.function->set_needs_reset();
  CHECK(m.intx.level());
  m.service();
  CHECK(m.core.counters().resets == 1);
  CHECK(m.core.interrupt_mode() == InterruptMode::kIntx);
  TestRequest& r = m.make(BlkOp::kRead, 20, sectors(2));
  submit_ok(m, r);
  m.service();
  CHECK(same(m.buffer_bytes(r), w.data));
  require_each_completed_once(m);
}

TEST_CASE("blk core MSI-X: a masked entry latches in the PBA and delivers on unmask",
          "[drivers][blk][msix][IRQ-4]") {
  BlkMachine m(msix_options(2));
  const uint32_t vector_control = kTable + 16 * 1 + 12;
  m.os->mmio_write(0, vector_control, 4, 1);  // mask the requestq's message
  TestRequest& w = m.make(BlkOp::kWrite, 30, sectors(1), 4);
  submit_ok(m, w);
  m.function->process_queue(0);
  CHECK(m.msi_messages.empty());
  CHECK(m.function->msix()->pending(1));
  CHECK(m.os->mmio_read(0, transport::VirtioPciFunction::kMsixPbaOffset, 4) == 0x2);
  CHECK_FALSE(m.intx.level());
  CHECK(w.completions == 0);
  m.os->mmio_write(0, vector_control, 4, 0);
  REQUIRE(m.msi_messages.size() == 1);
  CHECK(m.msi_messages.front().data == 1);
  CHECK_FALSE(m.function->msix()->pending(1));
  CHECK_FALSE(service_watching_intx(m));
  CHECK(w.completions == 1);
  require_each_completed_once(m);
}

TEST_CASE("transport driver: setup_queue verifies the vector and leaves a refused queue disabled",
          "[drivers][transport][msix][IRQ-4][Q-1]") {
  BlkMachineOptions o = msix_options(2);
  o.init = false;
  BlkMachine m(o);
  transport::VirtioPciDriver d;
  REQUIRE(d.attach(*m.os, transport::ValidationMode::kStrict, 1) == transport::TransportError::kNone);
  REQUIRE(d.reset() == transport::TransportError::kNone);
  uint64_t accepted = 0;
  REQUIRE(d.negotiate(0, 0, &accepted) == transport::TransportError::kNone);
  CHECK(d.msix_message_control() & 0x8000);
  CHECK(d.set_config_vector(1) == transport::TransportError::kNone);
  m.os->refuse_msix_vectors_from(1);
  CHECK(d.set_config_vector(1) == transport::TransportError::kVectorRefused);
  CHECK(d.set_queue_vector(0, 3) == transport::TransportError::kVectorRefused);
  CHECK(d.set_queue_vector(0, transport::kNoVector) == transport::TransportError::kNone);
  const uint64_t ring = m.alloc_buffer(8192) & ~uint64_t{4095};
  CHECK(d.setup_queue(0, ring + 4096, ring + 6144, ring + 7168, 2) ==
        transport::TransportError::kVectorRefused);
  CHECK_FALSE(m.function->queue_enabled(0));
  CHECK(d.setup_queue(0, ring + 4096, ring + 6144, ring + 7168, 0) == transport::TransportError::kNone);
  CHECK(m.function->queue_enabled(0));
  CHECK(d.disable_msix());
  CHECK_FALSE(m.function->msix()->enabled());
  CHECK((d.msix_message_control() & 0x8000) == 0);
}
