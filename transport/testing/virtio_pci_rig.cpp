#include "transport/testing/virtio_pci_rig.hpp"

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::transport::testing {

namespace vq = virtqueue;

VirtioPciRig::VirtioPciRig(const RigOptions& o)
    : DriverRig("rig", std::vector<uint16_t>(o.queue_sizes.size(), 0)),
      device(o.queue_sizes, o.features) {
  plug(device, contract_identity(contract::kBlk, 0), kBdf, o.msix_vectors, o.enumerate);
}

TransportError VirtioPciRig::bring_up(uint16_t msix_vector) {
  std::vector<QueuePlan> plans(device.num_queues());
  for (uint16_t q = 0; q < plans.size(); ++q) {
    plans[q].ring_gpa = kRingGpa + kRingStride * q;
    plans[q].vector = msix_vector;
  }
  return DriverRig::bring_up(1ull << vq::kFRingIndirectDesc, plans);
}

bool VirtioPciRig::echo(uint16_t q, uint32_t value) {
  memory.write_obj(kEchoInGpa, value);
  memory.write_obj(kEchoOutGpa, uint32_t{0});
  static int token;
  const vq::Segment segs[2] = {{kEchoInGpa, 4, false}, {kEchoOutGpa, 4, true}};
  if (queues[q].add(segs, 2, &token) != vq::DriverStatus::kOk) return false;
  kick(q);
  vq::UsedBuffer u{};
  uint32_t got = 0;
  memory.read_obj(kEchoOutGpa, &got);
  return queues[q].get_used(&u) == vq::DriverStatus::kOk && u.len == 4 && got == value;
}

}  // namespace aerov::transport::testing
