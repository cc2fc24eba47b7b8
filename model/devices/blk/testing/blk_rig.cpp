#include "model/devices/blk/testing/blk_rig.hpp"

#include <stdexcept>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::model::devices::testing {

namespace vq = virtqueue;
using transport::TransportError;

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("blk rig: ") + what);
}

}  // namespace

BlkRig::BlkRig(const BlkRigOptions& o)
    : intx([this](bool level) {
        intx_levels.push_back(level);
        if (on_intx) on_intx(level);
      }),
      options_(o) {
  require(memory.add_ram(0, kRamBytes) == MemError::kOk, "low RAM");
  require(memory.add_ram(kHighRam, kRamBytes) == MemError::kOk, "high RAM");
  if (o.backend != nullptr) {
    disk = o.backend;
  } else {
    ram_disk = std::make_unique<backends::RamDisk>(o.disk_sectors);
    disk = ram_disk.get();
  }
  device = std::make_unique<BlkDevice>(*disk, o.device);
  transport::VirtioPciOptions po;
  po.intx = &intx;
  function = std::make_unique<transport::VirtioPciFunction>(
      *device, memory, transport::contract_identity(contract::kBlk, 0), std::move(po));
  require(bus.attach(kBdf, function.get()) == model::pci::PciError::kOk, "attach");
  enumeration = model::pci::enumerate(
      bus, {{0xE000'0000, 0x1000'0000}, {0x80'0000'0000, 0x1'0000'0000}});
  require(enumeration.functions.size() == 1 && enumeration.functions[0].enabled, "enumeration");
  pci.emplace(bus, enumeration.functions[0]);
  cookies_.resize(contract::kBlk.queues[0].size);
  for (uint16_t s = 0; s < cookies_.size(); ++s) {
    const uint8_t unwritten = kStatusUnwritten;
    memory.write(status_addr(s), &unwritten, 1);
  }
  if (o.bring_up) require(bring_up() == TransportError::kNone, "bring-up");
}

TransportError BlkRig::bring_up() {
  TransportError e = driver.attach(*pci, transport::ValidationMode::kStrict, contract::kPciRevision);
  if (e == TransportError::kNone) e = driver.reset();
  uint64_t wanted = contract::kBlk.features_offered;
  if (!options_.negotiate_indirect) wanted &= ~contract::feature_mask(contract::kFeatureRingIndirectDesc);
  if (e == TransportError::kNone) e = driver.negotiate(wanted, 0, &features);
  uint16_t size = 0;
  if (e == TransportError::kNone) e = driver.queue_size(0, &size);
  if (e != TransportError::kNone) return e;
  if (options_.raw_ring) {
    raw.emplace(memory, size, kRingGpa, false, kRawScratchBytes);
    e = driver.setup_queue(0, raw->desc_addr(), raw->avail_addr(), raw->used_addr(),
                           transport::kNoVector);
  } else {
    states_.assign(size, vq::DescState{});
    vq::DriverQueueConfig cfg{};
    cfg.size = size;
    cfg.ring = vq::DmaRegion{memory.translate(kRingGpa, vq::ring_layout(size, false).total_bytes),
                             kRingGpa};
    cfg.state = states_.data();
    if (options_.indirect_max != 0) {
      const uint64_t pool = uint64_t{size} * options_.indirect_max * sizeof(vq::VirtqDesc);
      require(kIndirectGpa + pool <= kSlotGpa, "indirect pool too large");
      cfg.indirect_pool = vq::DmaRegion{memory.translate(kIndirectGpa, pool), kIndirectGpa};
      cfg.indirect_max = options_.indirect_max;
      cfg.indirect_min_segments = 2;
    }
    require(queue.init(cfg) == vq::DriverStatus::kOk, "driver queue init");
    e = driver.setup_queue(0, queue.desc_pa(), queue.avail_pa(), queue.used_pa(),
                           transport::kNoVector);
  }
  if (e == TransportError::kNone) driver.driver_ok();
  return e;
}

std::vector<uint16_t> BlkRig::recover() {
  std::vector<uint16_t> lost;
  driver.reset();
  if (!options_.raw_ring) {
    void* cookie = nullptr;
    while (queue.detach_unused(&cookie) == vq::DriverStatus::kOk) {
      lost.push_back(static_cast<uint16_t>(static_cast<uint8_t*>(cookie) - cookies_.data()));
    }
  }
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
  require(slot < cookies_.size(), "slot");
  const uint8_t unwritten = kStatusUnwritten;
  memory.write(status_addr(slot), &unwritten, 1);
  return queue.add(segs.data(), static_cast<uint16_t>(segs.size()), &cookies_[slot]);
}

void BlkRig::kick() {
  queue.publish();
  if (queue.kick_needed()) driver.notify(0);
}

std::vector<std::pair<uint16_t, BlkResult>> BlkRig::reap() {
  std::vector<std::pair<uint16_t, BlkResult>> done;
  vq::UsedBuffer u{};
  while (queue.get_used(&u) == vq::DriverStatus::kOk) {
    const auto slot = static_cast<uint16_t>(static_cast<uint8_t*>(u.cookie) - cookies_.data());
    done.emplace_back(slot, BlkResult{true, status(slot), u.len});
  }
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

uint16_t BlkRig::raw_chain(std::span<const RawDesc> descs, uint16_t first, bool notify_device) {
  require(raw.has_value() && !descs.empty(), "raw ring");
  const uint16_t n = raw->size();
  for (size_t i = 0; i < descs.size(); ++i) {
    const auto index = static_cast<uint16_t>((first + i) % n);
    const bool last = i + 1 == descs.size();
    const auto flags = static_cast<uint16_t>(descs[i].flags | (last ? 0 : vq::kDescFNext));
    raw->set_desc(index, descs[i].addr, descs[i].len, flags,
                  last ? 0 : static_cast<uint16_t>((index + 1) % n));
  }
  raw->make_available(first);
  if (notify_device) driver.notify(0);
  return first;
}

uint64_t BlkRig::raw_table(std::span<const RawDesc> descs) {
  require(raw.has_value(), "raw ring");
  const uint64_t table = raw->alloc(16 * descs.size());
  for (size_t i = 0; i < descs.size(); ++i) {
    const bool last = i + 1 == descs.size();
    raw->set_table_entry(
        table, static_cast<uint16_t>(i),
        vq::VirtqDesc{descs[i].addr, descs[i].len,
                      static_cast<uint16_t>(descs[i].flags | (last ? 0 : vq::kDescFNext)),
                      static_cast<uint16_t>(last ? 0 : i + 1)});
  }
  return table;
}

std::optional<vq::VirtqUsedElem> BlkRig::raw_used(uint16_t position) const {
  if (static_cast<uint16_t>(raw->used_idx() - position) == 0 ||
      static_cast<uint16_t>(raw->used_idx() - position) > raw->size()) {
    return std::nullopt;
  }
  return raw->used_elem(position);
}

std::vector<uint8_t> BlkRig::peek(uint64_t gpa, uint64_t len) const {
  std::vector<uint8_t> out(len);
  require(memory.read(gpa, out.data(), len) == MemError::kOk, "peek outside memory");
  return out;
}

void BlkRig::poke(uint64_t gpa, std::span<const uint8_t> bytes) {
  require(memory.write(gpa, bytes.data(), bytes.size()) == MemError::kOk, "poke outside memory");
}

void BlkRig::fill(uint64_t gpa, uint8_t byte, uint64_t len) {
  const std::vector<uint8_t> bytes(len, byte);
  poke(gpa, bytes);
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
