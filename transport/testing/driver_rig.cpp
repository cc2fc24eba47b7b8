#include "transport/testing/driver_rig.hpp"

#include <stdexcept>

#include "aerov/contract/windows_device_contract.hpp"

namespace aerov::transport::testing {

namespace vq = virtqueue;

DriverRig::DriverRig(std::string name, std::vector<uint16_t> slots)
    : intx([this](bool level) {
        intx_levels.push_back(level);
        if (on_intx) on_intx(level);
      }),
      queues(slots.size()),
      raw_rings(slots.size()),
      name_(std::move(name)),
      states_(slots.size()),
      cookies_(slots.size()) {
  require(memory.add_ram(0, kRamBytes) == model::MemError::kOk, "low RAM");
  require(memory.add_ram(kHighRam, kRamBytes) == model::MemError::kOk, "high RAM");
  for (size_t q = 0; q < slots.size(); ++q) cookies_[q].resize(slots[q]);
}

void DriverRig::require(bool ok, const char* what) const {
  if (!ok) throw std::runtime_error(name_ + ": " + what);
}

void DriverRig::plug(VirtioDevice& device, const PciIdentity& identity, model::pci::Bdf bdf,
                     uint16_t msix_vectors, bool enumerate) {
  VirtioPciOptions options;
  options.intx = &intx;
  options.msix_vectors = msix_vectors;
  options.msi_sink = [this](const model::irq::MsiMessage& m) { msis.push_back(m); };
  function = std::make_unique<VirtioPciFunction>(device, memory, identity, std::move(options));
  require(bus.attach(bdf, function.get()) == model::pci::PciError::kOk, "attach");
  if (!enumerate) return;
  // Firmware places 64-bit BARs above 4 GiB (DMA-2 style addresses for MMIO).
  enumeration = model::pci::enumerate(
      bus, {{0xE000'0000, 0x1000'0000}, {0x80'0000'0000, 0x1'0000'0000}});
  require(enumeration.functions.size() == 1 && enumeration.functions[0].enabled, "enumeration");
  pci.emplace(bus, enumeration.functions[0]);
}

TransportError DriverRig::attach_and_reset() {
  const TransportError e = driver.attach(*pci, ValidationMode::kStrict, contract::kPciRevision);
  return e == TransportError::kNone ? driver.reset() : e;
}

TransportError DriverRig::bring_up(uint64_t wanted, std::span<const QueuePlan> plans) {
  require(plans.size() <= queues.size(), "more queue plans than queues");
  TransportError e = attach_and_reset();
  if (e == TransportError::kNone) e = driver.negotiate(wanted, 0, &features);
  for (uint16_t q = 0; q < plans.size() && e == TransportError::kNone; ++q) {
    e = setup_queue(q, plans[q]);
  }
  if (e == TransportError::kNone) driver.driver_ok();
  return e;
}

TransportError DriverRig::setup_queue(uint16_t q, const QueuePlan& plan) {
  uint16_t size = 0;
  const TransportError e = driver.queue_size(q, &size);
  if (e != TransportError::kNone) return e;
  if (plan.raw) {
    auto& rb = raw_rings[q];
    rb.emplace(memory, size, plan.ring_gpa, false, plan.raw_scratch_bytes);
    return driver.setup_queue(q, rb->desc_addr(), rb->avail_addr(), rb->used_addr(), plan.vector);
  }
  auto& queue = queues[q];
  states_[q].assign(size, vq::DescState{});
  vq::DriverQueueConfig cfg{};
  cfg.size = size;
  cfg.ring = vq::DmaRegion{memory.translate(plan.ring_gpa, vq::ring_layout(size, false).total_bytes),
                           plan.ring_gpa};
  cfg.state = states_[q].data();
  if (plan.indirect_max != 0) {
    const uint64_t pool = uint64_t{size} * plan.indirect_max * sizeof(vq::VirtqDesc);
    require(plan.indirect_gpa + pool <= plan.indirect_end, "indirect pool too large");
    cfg.indirect_pool = vq::DmaRegion{memory.translate(plan.indirect_gpa, pool), plan.indirect_gpa};
    cfg.indirect_max = plan.indirect_max;
    cfg.indirect_min_segments = 2;
  }
  require(queue.init(cfg) == vq::DriverStatus::kOk, "driver queue init");
  return driver.setup_queue(q, queue.desc_pa(), queue.avail_pa(), queue.used_pa(), plan.vector);
}

vq::DriverStatus DriverRig::add_chain(uint16_t q, uint16_t slot, std::span<const vq::Segment> segs) {
  require(slot < cookies_[q].size(), "slot");
  return queues[q].add(segs.data(), static_cast<uint16_t>(segs.size()), &cookies_[q][slot]);
}

void DriverRig::kick(uint16_t q) {
  queues[q].publish();
  if (queues[q].kick_needed()) driver.notify(q);
}

std::vector<UsedSlot> DriverRig::take_used(uint16_t q) {
  std::vector<UsedSlot> done;
  vq::UsedBuffer u{};
  while (queues[q].get_used(&u) == vq::DriverStatus::kOk) {
    done.push_back({static_cast<uint16_t>(static_cast<uint8_t*>(u.cookie) - cookies_[q].data()), u.len});
  }
  return done;
}

std::vector<uint16_t> DriverRig::detach_unused(uint16_t q) {
  std::vector<uint16_t> lost;
  void* cookie = nullptr;
  while (queues[q].detach_unused(&cookie) == vq::DriverStatus::kOk) {
    lost.push_back(static_cast<uint16_t>(static_cast<uint8_t*>(cookie) - cookies_[q].data()));
  }
  return lost;
}

uint16_t DriverRig::raw_chain(uint16_t q, std::span<const RawDesc> descs, uint16_t first,
                              bool notify_device) {
  require(raw_rings[q].has_value() && !descs.empty(), "raw ring");
  auto& rb = *raw_rings[q];
  const uint16_t n = rb.size();
  for (size_t i = 0; i < descs.size(); ++i) {
    const auto index = static_cast<uint16_t>((first + i) % n);
    const bool last = i + 1 == descs.size();
    const auto flags = static_cast<uint16_t>(descs[i].flags | (last ? 0 : vq::kDescFNext));
    rb.set_desc(index, descs[i].addr, descs[i].len, flags,
                last ? 0 : static_cast<uint16_t>((index + 1) % n));
  }
  rb.make_available(first);
  if (notify_device) driver.notify(q);
  return first;
}

uint64_t DriverRig::raw_table(uint16_t q, std::span<const RawDesc> descs) {
  require(raw_rings[q].has_value(), "raw ring");
  auto& rb = *raw_rings[q];
  const uint64_t table = rb.alloc(16 * descs.size());
  for (size_t i = 0; i < descs.size(); ++i) {
    const bool last = i + 1 == descs.size();
    rb.set_table_entry(table, static_cast<uint16_t>(i),
                       vq::VirtqDesc{descs[i].addr, descs[i].len,
                                     static_cast<uint16_t>(descs[i].flags | (last ? 0 : vq::kDescFNext)),
                                     static_cast<uint16_t>(last ? 0 : i + 1)});
  }
  return table;
}

std::optional<vq::VirtqUsedElem> DriverRig::raw_used(uint16_t q, uint16_t position) const {
  const auto& rb = *raw_rings[q];
  const auto ahead = static_cast<uint16_t>(rb.used_idx() - position);
  if (ahead == 0 || ahead > rb.size()) return std::nullopt;
  return rb.used_elem(position);
}

std::vector<uint8_t> DriverRig::peek(uint64_t gpa, uint64_t len) const {
  std::vector<uint8_t> out(len);
  require(memory.read(gpa, out.data(), len) == model::MemError::kOk, "peek outside memory");
  return out;
}

void DriverRig::poke(uint64_t gpa, std::span<const uint8_t> bytes) {
  require(memory.write(gpa, bytes.data(), bytes.size()) == model::MemError::kOk,
          "poke outside memory");
}

void DriverRig::fill(uint64_t gpa, uint8_t byte, uint64_t len) {
  const std::vector<uint8_t> bytes(len, byte);
  poke(gpa, bytes);
}

std::vector<uint8_t> DriverRig::read_config(uint32_t offset, uint32_t len) {
  std::vector<uint8_t> out(len);
  require(driver.read_device_config(offset, out.data(), len) == TransportError::kNone, "config read");
  return out;
}

}  // namespace aerov::transport::testing
