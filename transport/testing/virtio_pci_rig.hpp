// A small machine for transport tests and conformance checks: DriverRig
// (guest RAM below and above 4 GiB, a PCI bus, a recorded INTx line and MSI
// sink, firmware enumeration, the driver end) with one virtio-pci function
// holding a LoopbackDevice. Driver and device meet only through config
// space, MMIO, guest memory and interrupts.
#pragma once

#include <vector>

#include "transport/testing/driver_rig.hpp"
#include "transport/testing/loopback_device.hpp"

namespace aerov::transport::testing {

struct RigOptions {
  std::vector<uint16_t> queue_sizes = {8, 16};
  uint64_t features = (1ull << 32) | (1ull << 28) | LoopbackDevice::kFeatureBit0;
  uint16_t msix_vectors = 0;
  bool enumerate = true;
};

class VirtioPciRig : public DriverRig {
 public:
  static constexpr model::pci::Bdf kBdf{0, 3, 0};
  static constexpr uint64_t kRingGpa = 0x100000;     // queue q's ring at kRingGpa + kRingStride * q
  static constexpr uint64_t kRingStride = 0x10000;
  static constexpr uint64_t kEchoInGpa = 0x300000;   // echo(): readable then writable bytes
  static constexpr uint64_t kEchoOutGpa = 0x300100;

  explicit VirtioPciRig(const RigOptions& options = {});

  // The driver brings the device up with INDIRECT_DESC asked for and a
  // DriverQueue per queue, each queue on `msix_vector`.
  TransportError bring_up(uint16_t msix_vector = kNoVector);
  // One request on queue q: 4 readable bytes echoed into 4 writable bytes.
  bool echo(uint16_t q, uint32_t value);

  LoopbackDevice device;
};

}  // namespace aerov::transport::testing
