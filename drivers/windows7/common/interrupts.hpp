// Interrupt delivery for every driver core (contract IRQ-1, IRQ-4, DRV-2):
// which MSI-X vector the device uses for configuration changes and for each
// queue, and when a core falls back to INTx + ISR. The one place this choice
// lives; the blk and net cores both call it. Freestanding.
//
// How a core uses it:
//
//   1. At first init, after VirtioPciDriver::attach():
//        plan_.reset(os.msix_messages_granted());
//      (0 granted = the platform connected a line-based interrupt: INTx.)
//   2. In every bring-up (first init and each STAT-4 reset), after
//      negotiate() and before setup_queue():
//        program_interrupts(driver_, num_queues, &plan_);
//      (setup_queues() below does steps 2 and 3 for all queues at once.)
//      It writes msix_config and every queue_msix_vector, reads them back,
//      and steps down on a refusal: one message per queue -> one shared
//      message -> INTx. The plan keeps its level across resets.
//   3. setup_queue(q, ..., plan_.queue_vector(q)) for each queue. Should the
//      device refuse there (kVectorRefused), call plan_.step_down() and
//      bring the device up again from reset.
//   4. Entry points the OS glue calls:
//        - line-based (plan_.mode() == kIntx): interrupt(), which reads ISR
//          (read-to-acknowledge) to learn the cause and to deassert INTA#;
//        - message-based: message_interrupt(message). If the plan is kIntx
//          (fallback) it behaves exactly as interrupt(). Otherwise it never
//          reads ISR: if plan_.covers_config(message), check DEVICE_NEEDS_RESET
//          (status register) and recover (STAT-4), else treat it as a
//          configuration change (in kMsixShared only when config_generation
//          moved, since message 0 is also every queue's); then, for each
//          queue q with plan_.covers_queue(message, q), drain q. A message
//          covering nothing is not ours (return false).
//
// Vectors in kMsixPerQueue: message 0 for configuration, queue q on message
// 1 + q % (granted - 1), so two messages give config + one shared queue
// message, and 1 + num_queues give every queue its own. Message numbers are
// MSI-X table entries, as the OS numbers them (StorPort MessageId, NDIS
// MessageId, KMDF MessageNumber); the platform programs the table and sets
// MSI-X Enable before the driver starts.
#pragma once

#include <stdint.h>

#include "drivers/windows7/common/os_services.hpp"
#include "transport/driver/virtio_pci_driver.hpp"

namespace aerov::drivers::windows7 {

enum class InterruptMode : uint8_t {
  kIntx = 0,      // INTx + ISR (the default, and the last fallback)
  kMsixShared,    // message 0 for configuration and every queue
  kMsixPerQueue,  // message 0 for configuration; queues on messages 1..granted-1
};

const char* to_string(InterruptMode m);

class InterruptPlan {
 public:
  // Starts from what the platform granted: 0 -> kIntx, 1 -> kMsixShared,
  // 2 or more -> kMsixPerQueue.
  void reset(uint16_t granted_messages);

  InterruptMode mode() const { return mode_; }
  uint16_t granted() const { return granted_; }
  bool uses_msix() const { return mode_ != InterruptMode::kIntx; }

  // The vector to program (transport::kNoVector in kIntx).
  uint16_t config_vector() const;
  uint16_t queue_vector(uint16_t queue) const;

  // Which causes message `message` stands for (never true in kIntx).
  bool covers_config(uint16_t message) const;
  bool covers_queue(uint16_t message, uint16_t queue) const;

  // kMsixPerQueue -> kMsixShared -> kIntx; false when already kIntx.
  bool step_down();

 private:
  InterruptMode mode_ = InterruptMode::kIntx;
  uint16_t granted_ = 0;
};

// Writes the plan's config vector and the vector of queues [0, num_queues)
// and verifies each read-back, stepping the plan down until the device takes
// every vector (kIntx always succeeds). When it ends in kIntx although
// messages were granted, it clears MSI-X Enable so the device signals on
// INTA# again (IRQ-1). Call after negotiate(), before setup_queue().
// Returns kNone, or a transport error other than kVectorRefused.
transport::TransportError program_interrupts(transport::VirtioPciDriver& driver,
                                             uint16_t num_queues, InterruptPlan* plan);

// Ring addresses of one queue, for setup_queues().
struct QueueRings {
  uint64_t desc;
  uint64_t avail;
  uint64_t used;
};

// Steps 2 and 3 above for queues [0, num_queues): programs the vectors, then
// every queue with its vector, stepping the plan down and starting over
// when the device refuses a vector at setup_queue (a queue is not enabled
// after a refusal, so it can be programmed again). Adds to *fallbacks one
// per level given up and logs `refused_message` (warning, the new mode) when
// the plan stepped down. Returns kNone or the transport error that stopped it.
transport::TransportError setup_queues(transport::VirtioPciDriver& driver, InterruptPlan* plan,
                                       const QueueRings* rings, uint16_t num_queues,
                                       uint64_t* fallbacks, OsServices& os,
                                       const char* refused_message);

// DRV-1 / STAT-3 steps every core takes the same way (each keeps its own
// error type and log text):
// attach at the contract's PCI revision, then size the plan from the
// platform's grant (step 1 above: 0 messages = INTx).
transport::TransportError attach_device(transport::VirtioPciDriver& driver, OsServices& os,
                                        transport::ValidationMode mode, InterruptPlan* plan);
// RESET, then ACKNOWLEDGE, DRIVER, features and FEATURES_OK.
transport::TransportError reset_and_negotiate(transport::VirtioPciDriver& driver, uint64_t wanted,
                                              uint64_t required, uint64_t* accepted);

// What one interrupt asks a core to do, decoded the same way for every
// core so their service routines differ only in what draining means.
struct InterruptWork {
  bool ours;          // false: another device's (shared INTx, ISR 0 or all-ones;
                      // or a message that covers nothing of ours)
  bool needs_reset;   // DEVICE_NEEDS_RESET is set: recover (STAT-4)
  bool config;        // a configuration change without NEEDS_RESET (CFG-4)
  uint32_t queues;    // bit q: look at queue q
};

// Line-based (IRQ-1, ISR-1/2): reads ISR, which acknowledges and deasserts
// INTA#. Every queue is looked at: the ISR queue bit does not say which.
InterruptWork decode_intx(transport::VirtioPciDriver& driver, uint16_t num_queues);

// Message-based (IRQ-4): never reads ISR. A message that covers the config
// vector checks DEVICE_NEEDS_RESET; it is a configuration change when the
// message is the config vector's alone, or when config_generation moved
// (*generation, updated here, is the last value the core saw).
InterruptWork decode_message(transport::VirtioPciDriver& driver, const InterruptPlan& plan,
                             uint16_t message, uint16_t num_queues, uint8_t* generation);

}  // namespace aerov::drivers::windows7
