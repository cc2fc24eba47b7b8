#include "drivers/windows7/common/interrupts.hpp"

#include "aerov/contract/windows_device_contract.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::drivers::windows7 {

using transport::TransportError;

const char* to_string(InterruptMode m) {
  switch (m) {
    case InterruptMode::kIntx: return "INTx";
    case InterruptMode::kMsixShared: return "MSI-X shared";
    case InterruptMode::kMsixPerQueue: return "MSI-X per queue";
  }
  return "unknown";
}

void InterruptPlan::reset(uint16_t granted_messages) {
  granted_ = granted_messages;
  mode_ = granted_ == 0   ? InterruptMode::kIntx
          : granted_ == 1 ? InterruptMode::kMsixShared
                          : InterruptMode::kMsixPerQueue;
}

uint16_t InterruptPlan::config_vector() const {
  return mode_ == InterruptMode::kIntx ? transport::kNoVector : 0;
}

uint16_t InterruptPlan::queue_vector(uint16_t queue) const {
  switch (mode_) {
    case InterruptMode::kIntx: return transport::kNoVector;
    case InterruptMode::kMsixShared: return 0;
    case InterruptMode::kMsixPerQueue:
      return static_cast<uint16_t>(1u + queue % (granted_ - 1u));
  }
  return transport::kNoVector;
}

bool InterruptPlan::covers_config(uint16_t message) const {
  return mode_ != InterruptMode::kIntx && message == config_vector();
}

bool InterruptPlan::covers_queue(uint16_t message, uint16_t queue) const {
  return mode_ != InterruptMode::kIntx && message == queue_vector(queue);
}

bool InterruptPlan::step_down() {
  switch (mode_) {
    case InterruptMode::kMsixPerQueue: mode_ = InterruptMode::kMsixShared; return true;
    case InterruptMode::kMsixShared: mode_ = InterruptMode::kIntx; return true;
    case InterruptMode::kIntx: return false;
  }
  return false;
}

TransportError program_interrupts(transport::VirtioPciDriver& driver, uint16_t num_queues,
                                  InterruptPlan* plan) {
  // Nothing granted: INTx, and the device's vectors are NO_VECTOR since reset.
  if (plan->granted() == 0) return TransportError::kNone;
  // At most three levels; each refusal steps down once.
  for (uint32_t attempt = 0; attempt < 3; ++attempt) {
    TransportError e = driver.set_config_vector(plan->config_vector());
    for (uint16_t q = 0; q < num_queues && e == TransportError::kNone; ++q) {
      e = driver.set_queue_vector(q, plan->queue_vector(q));
    }
    if (e == TransportError::kNone) {
      // Granted messages the device cannot use: let it raise INTA# instead.
      if (plan->mode() == InterruptMode::kIntx && plan->granted() != 0) driver.disable_msix();
      return TransportError::kNone;
    }
    if (e != TransportError::kVectorRefused || !plan->step_down()) return e;
  }
  return TransportError::kVectorRefused;  // unreachable: kIntx never refuses
}

namespace {

// Vectors, then every queue; on a refused vector, one level down and again.
TransportError program_all(transport::VirtioPciDriver& driver, InterruptPlan* plan,
                           const QueueRings* rings, uint16_t num_queues, uint64_t* fallbacks) {
  for (;;) {
    const InterruptMode before = plan->mode();
    TransportError e = program_interrupts(driver, num_queues, plan);
    for (uint16_t q = 0; q < num_queues && e == TransportError::kNone; ++q) {
      e = driver.setup_queue(q, rings[q].desc, rings[q].avail, rings[q].used,
                             plan->queue_vector(q));
    }
    // kMsixPerQueue > kMsixShared > kIntx: one count per level given up.
    *fallbacks += static_cast<uint8_t>(before) - static_cast<uint8_t>(plan->mode());
    if (e != TransportError::kVectorRefused) return e;
    if (!plan->step_down()) return e;
    ++*fallbacks;
  }
}

}  // namespace

TransportError setup_queues(transport::VirtioPciDriver& driver, InterruptPlan* plan,
                            const QueueRings* rings, uint16_t num_queues, uint64_t* fallbacks,
                            OsServices& os, const char* refused_message) {
  const InterruptMode first = plan->mode();
  const TransportError e = program_all(driver, plan, rings, num_queues, fallbacks);
  if (plan->mode() != first) {
    log_event(os, LogLevel::kWarning, refused_message, static_cast<uint64_t>(plan->mode()));
  }
  return e;
}

TransportError attach_device(transport::VirtioPciDriver& driver, OsServices& os,
                             transport::ValidationMode mode, InterruptPlan* plan) {
  const TransportError e = driver.attach(os, mode, contract::kPciRevision);
  if (e == TransportError::kNone) plan->reset(os.msix_messages_granted());
  return e;
}

TransportError reset_and_negotiate(transport::VirtioPciDriver& driver, uint64_t wanted,
                                   uint64_t required, uint64_t* accepted) {
  TransportError e = driver.reset();
  if (e == TransportError::kNone) e = driver.negotiate(wanted, required, accepted);
  return e;
}

InterruptWork decode_intx(transport::VirtioPciDriver& driver, uint16_t num_queues) {
  InterruptWork w{};
  const uint8_t isr = driver.read_isr();
  // ISR-1: bits 2-7 read 0, so 0xFF is a master abort (device gone), not us.
  if (isr == 0 || (isr & 0xFC) != 0) return w;
  w.ours = true;
  if ((isr & 2) != 0) {
    w.needs_reset = driver.needs_reset();
    w.config = !w.needs_reset;
  }
  w.queues = num_queues >= 32 ? ~0u : (1u << num_queues) - 1;
  return w;
}

InterruptWork decode_message(transport::VirtioPciDriver& driver, const InterruptPlan& plan,
                             uint16_t message, uint16_t num_queues, uint8_t* generation) {
  InterruptWork w{};
  for (uint16_t q = 0; q < num_queues && q < 32; ++q) {
    if (plan.covers_queue(message, q)) w.queues |= 1u << q;
  }
  const bool config = plan.covers_config(message);
  w.ours = config || w.queues != 0;
  if (!config) return w;
  w.needs_reset = driver.needs_reset();
  if (!w.needs_reset) {
    const uint8_t now = driver.config_generation();
    w.config = w.queues == 0 || now != *generation;
    if (w.config) *generation = now;
  }
  return w;
}

}  // namespace aerov::drivers::windows7
