#include "model/devices/blk/testing/blk_rig.hpp"

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::model::devices::testing {

namespace vq = virtqueue;
using transport::TransportError;

BlkRig::BlkRig(const BlkRigOptions& o)
    : DriverRig("blk rig", {contract::kBlk.queues[0].size}), options_(o) {
  if (o.backend != nullptr) {
    disk = o.backend;
  } else {
    ram_disk = std::make_unique<backends::RamDisk>(o.disk_sectors);
    disk = ram_disk.get();
  }
  device = std::make_unique<BlkDevice>(*disk, o.device);
  plug(*device, transport::contract_identity(contract::kBlk, 0), kBdf);
  for (uint16_t s = 0; s < contract::kBlk.queues[0].size; ++s) {
    const uint8_t unwritten = kStatusUnwritten;
    memory.write(status_addr(s), &unwritten, 1);
  }
  if (o.bring_up) require(bring_up() == TransportError::kNone, "bring-up");
}

TransportError BlkRig::bring_up() {
  uint64_t wanted = contract::kBlk.features_offered;
  if (!options_.negotiate_indirect) wanted &= ~contract::feature_mask(contract::kFeatureRingIndirectDesc);
  transport::testing::QueuePlan plan;
  plan.ring_gpa = kRingGpa;
  plan.raw = options_.raw_ring;
  plan.raw_scratch_bytes = kRawScratchBytes;
  plan.indirect_gpa = kIndirectGpa;
  plan.indirect_end = kSlotGpa;
  plan.indirect_max = options_.indirect_max;
  return DriverRig::bring_up(wanted, {&plan, 1});
}

std::vector<uint16_t> BlkRig::recover() {
  std::vector<uint16_t> lost;
  driver.reset();
  if (!options_.raw_ring) lost = detach_unused(0);
  require(bring_up() == TransportError::kNone, "bring-up after reset");
  return lost;
}

void BlkRig::write_header(uint16_t slot, uint32_t type, uint64_t sector, uint32_t ioprio) {
  const blk::RequestHeader h{type, ioprio, sector};
  memory.write_obj(header_addr(slot), h);
}

uint8_t BlkRig::status(uint16_t slot) const {
  uint8_t s = 0;
  memory.read(status_addr(slot), &s, 1);
  return s;
}

vq::DriverStatus BlkRig::submit(uint16_t slot, uint32_t type, uint64_t sector,
                                std::span<const vq::Segment> data) {
  write_header(slot, type, sector);
  scratch_segs_.clear();
  scratch_segs_.push_back(vq::Segment{header_addr(slot), blk::kHeaderBytes, false});
  scratch_segs_.insert(scratch_segs_.end(), data.begin(), data.end());
  scratch_segs_.push_back(vq::Segment{status_addr(slot), blk::kStatusBytes, true});
  return submit_segments(slot, scratch_segs_);
}

vq::DriverStatus BlkRig::submit_segments(uint16_t slot, std::span<const vq::Segment> segs) {
  require(slot < contract::kBlk.queues[0].size, "slot");
  const uint8_t unwritten = kStatusUnwritten;
  memory.write(status_addr(slot), &unwritten, 1);
  return add_chain(0, slot, segs);
}

void BlkRig::kick() { DriverRig::kick(0); }

std::vector<std::pair<uint16_t, BlkResult>> BlkRig::reap() {
  std::vector<std::pair<uint16_t, BlkResult>> done;
  for (const auto& u : take_used(0)) done.emplace_back(u.slot, BlkResult{true, status(u.slot), u.len});
  return done;
}

void BlkRig::settle(int max_rounds) {
  for (int i = 0; i < max_rounds && device->in_flight() != 0 && !needs_reset(); ++i) {
    function->process_queue(0);
  }
}

BlkResult BlkRig::run(uint32_t type, uint64_t sector, std::span<const vq::Segment> data) {
  if (submit(0, type, sector, data) != vq::DriverStatus::kOk) return {};
  kick();
  settle();
  const auto done = reap();
  return done.size() == 1 && done[0].first == 0 ? done[0].second : BlkResult{};
}

BlkResult BlkRig::run_segments(std::span<const vq::Segment> segs) {
  if (submit_segments(0, segs) != vq::DriverStatus::kOk) return {};
  kick();
  settle();
  const auto done = reap();
  return done.size() == 1 && done[0].first == 0 ? done[0].second : BlkResult{};
}

uint8_t BlkRig::read(uint64_t sector, uint64_t gpa, uint32_t bytes) {
  const vq::Segment seg{gpa, bytes, true};
  const BlkResult r = run(blk::kTypeIn, sector, {&seg, 1});
  return r.completed ? r.status : kStatusUnwritten;
}

uint8_t BlkRig::write(uint64_t sector, uint64_t gpa, uint32_t bytes) {
  const vq::Segment seg{gpa, bytes, false};
  const BlkResult r = run(blk::kTypeOut, sector, {&seg, 1});
  return r.completed ? r.status : kStatusUnwritten;
}

uint8_t BlkRig::flush() {
  const BlkResult r = run(blk::kTypeFlush, 0, {});
  return r.completed ? r.status : kStatusUnwritten;
}

std::vector<uint8_t> BlkRig::disk_bytes(uint64_t sector, uint64_t count) {
  std::vector<uint8_t> out(count * backends::kSectorSize);
  require(backends::read_sync(*disk, sector, out) == backends::DiskStatus::kOk, "disk read");
  return out;
}

void BlkRig::set_disk_bytes(uint64_t sector, std::span<const uint8_t> bytes) {
  require(backends::write_sync(*disk, sector, bytes) == backends::DiskStatus::kOk, "disk write");
}

}  // namespace aerov::model::devices::testing
