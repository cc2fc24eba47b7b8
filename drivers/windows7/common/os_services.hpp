// What a driver core needs from the OS beyond PCI access: DMA-able memory
// handed out at initialisation, which interrupts the platform connected,
// and a log. The StorPort/NDIS/KMDF glue
// implements it with WDK calls (an uncached extension or common buffer,
// DbgPrintEx or WPP); drivers/host implements it on the machine model.
//
// Freestanding (architecture note): virtual calls only, no RTTI, no deleting
// destructor, no printf-style formatting (a kernel log format string that
// a device can influence is a hazard, and %-formatting pulls in the CRT).
#pragma once

#include <stdint.h>

#include "transport/driver/pci_access.hpp"
#include "virtqueue/driver/driver_queue.hpp"

namespace aerov::drivers::windows7 {

using virtqueue::DmaRegion;

enum class LogLevel : uint8_t { kError = 0, kWarning, kInfo, kTrace };

class OsServices : public transport::PciAccess {
 public:
  static constexpr uint8_t kMaxLogArgs = 4;

  // Physically contiguous, zero-filled memory the device may DMA to, with
  // both va and pa aligned to `alignment` (a power of two, at most 4096).
  // The bus address may lie above 4 GiB (DMA-2). Called only while a core
  // initialises; cores never free (the OS reclaims it with the device).
  // Returns false when the memory is not available.
  virtual bool alloc_dma(uint32_t bytes, uint32_t alignment, DmaRegion* out) = 0;

  // How many message-signaled interrupts (MSI-X table entries 0..N-1) the
  // platform granted and connected before the core starts; 0 means a
  // line-based (INTx) interrupt (DRV-2). The glue reports what the OS says:
  // StorPort, StorPortGetMSIInfo succeeding for MessageId 0..N-1 (with
  // HwMSInterruptRoutine set); NDIS 6, the MessageInfoTable->MessageCount
  // of NdisMRegisterInterruptEx when InterruptType is
  // NDIS_CONNECT_MESSAGE_BASED; KMDF, the WDF_INTERRUPT_INFO of each
  // message interrupt. Each entry is programmed and unmasked and MSI-X
  // Enable is set. The cores choose vectors with interrupts.hpp.
  virtual uint16_t msix_messages_granted() { return 0; }

  // `message` is a fixed string with static lifetime; args (at most
  // kMaxLogArgs) are printed after it as numbers.
  virtual void log(LogLevel level, const char* message, const uint64_t* args,
                   uint8_t num_args) = 0;

 protected:
  ~OsServices() = default;
};

// Convenience front ends for OsServices::log with 0..3 numbers.
inline void log_event(OsServices& os, LogLevel level, const char* message) {
  os.log(level, message, nullptr, 0);
}
inline void log_event(OsServices& os, LogLevel level, const char* message, uint64_t a) {
  const uint64_t args[1] = {a};
  os.log(level, message, args, 1);
}
inline void log_event(OsServices& os, LogLevel level, const char* message, uint64_t a,
                      uint64_t b) {
  const uint64_t args[2] = {a, b};
  os.log(level, message, args, 2);
}
inline void log_event(OsServices& os, LogLevel level, const char* message, uint64_t a,
                      uint64_t b, uint64_t c) {
  const uint64_t args[3] = {a, b, c};
  os.log(level, message, args, 3);
}

}  // namespace aerov::drivers::windows7
