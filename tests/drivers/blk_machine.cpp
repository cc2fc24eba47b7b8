#include "tests/drivers/blk_machine.hpp"

#include <random>
#include <stdexcept>

#include "aerov/contract/windows_device_contract.hpp"
#include "virtqueue/layout.hpp"

namespace aerov::drivers::testing {

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("blk machine: ") + what);
}

}  // namespace

BlkMachine::BlkMachine(const BlkMachineOptions& o) : options_(o) {
  ram = std::make_unique<model::backends::RamDisk>(o.disk_sectors);
  model::backends::DiskBackend* disk = ram.get();
  if (o.faulty) {
    auto fo = o.faulty_options;
    fo.write_cache = false;
    faulty = std::make_unique<model::backends::FaultyDisk>(*ram, fo);
    disk = faulty.get();
  }
  model::devices::BlkDeviceOptions dopt;
  dopt.seg_max = o.seg_max;
  device = std::make_unique<model::devices::BlkDevice>(*disk, dopt);
  set_msix_vectors(o.msix_vectors);
  attach(*device, contract::kBlk, o.hide_features);
  if (o.grant_messages != 0) os->grant_msix_messages(o.grant_messages);
  pending.assign(o.pending_capacity, nullptr);
  if (o.init) require(init() == w7::BlkError::kNone, "core init");
}

w7::BlkError BlkMachine::init() {
  w7::BlkCoreConfig cfg{};
  cfg.on_complete = &BlkMachine::on_complete;
  cfg.context = this;
  cfg.pending = pending.data();
  cfg.pending_capacity = static_cast<uint16_t>(pending.size());
  return core.init(*os, cfg);
}

void BlkMachine::on_complete(void* context, w7::BlkRequest* request, w7::BlkResult result) {
  auto* self = static_cast<BlkMachine*>(context);
  for (auto& r : self->requests) {
    if (&r.req == request) {
      ++r.completions;
      r.result = result;
      self->completion_order.push_back(&r);
      return;
    }
  }
  ++self->stray_completions;
}

bool BlkMachine::interrupt_if_asserted() {
  if (!intx.level()) return false;
  core.interrupt();
  return true;
}

int BlkMachine::deliver_messages() {
  return CoreMachine::deliver_messages([this](uint16_t m) { return core.message_interrupt(m); });
}

void BlkMachine::service(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    bool progress = false;
    if (device->in_flight() != 0 && function->queue_enabled(0)) {
      function->process_queue(0);  // the host's "backend finished work" event
      progress = true;
    }
    if (deliver_messages() != 0) progress = true;
    for (int i = 0; i < 64 && intx.level(); ++i) {
      core.interrupt();
      progress = true;
    }
    if (!progress) return;
  }
}

TestRequest& BlkMachine::make(w7::BlkOp op, uint64_t sector, std::vector<uint32_t> pieces,
                              uint32_t seed) {
  TestRequest& r = requests.emplace_back();
  uint64_t total = 0;
  for (uint32_t len : pieces) {
    const uint64_t gpa = alloc_buffer(len);
    r.sg.push_back(w7::BlkSgElement{gpa, len});
    total += len;
  }
  r.data.resize(total);
  if (op == w7::BlkOp::kWrite) {
    std::mt19937 rng(seed);
    for (auto& b : r.data) b = static_cast<uint8_t>(rng());
    uint64_t at = 0;
    for (const auto& e : r.sg) {
      memory.write(e.addr, r.data.data() + at, e.len);
      at += e.len;
    }
  } else {
    for (const auto& e : r.sg) {
      std::vector<uint8_t> junk(e.len, 0xA5);
      memory.write(e.addr, junk.data(), e.len);
    }
  }
  r.req.op = op;
  r.req.sector = sector;
  r.req.sector_count = static_cast<uint32_t>(total / 512);
  r.req.sg = r.sg.data();
  r.req.sg_count = static_cast<uint32_t>(r.sg.size());
  r.req.cookie = &r;
  return r;
}

TestRequest& BlkMachine::make_flush() {
  TestRequest& r = requests.emplace_back();
  r.req.op = w7::BlkOp::kFlush;
  r.req.cookie = &r;
  return r;
}

std::vector<uint8_t> BlkMachine::buffer_bytes(const TestRequest& r) const {
  std::vector<uint8_t> out;
  for (const auto& e : r.sg) {
    std::vector<uint8_t> piece(e.len);
    memory.read(e.addr, piece.data(), e.len);
    out.insert(out.end(), piece.begin(), piece.end());
  }
  return out;
}

std::vector<uint8_t> BlkMachine::disk_bytes(uint64_t sector, uint64_t count) {
  std::vector<uint8_t> out(count * 512);
  require(model::backends::read_sync(*ram, sector, out) == model::backends::DiskStatus::kOk,
          "disk read");
  return out;
}

uint64_t BlkMachine::used_pa() const { return CoreMachine::used_pa(0, core.queue_size()); }

uint64_t BlkMachine::status_pa(uint16_t slot) const {
  return os->allocations().at(1).pa + 16ull * core.queue_size() + slot;
}

uint16_t BlkMachine::used_idx() const { return CoreMachine::used_idx(0, core.queue_size()); }

void BlkMachine::poke_used(uint16_t position, uint32_t id, uint32_t len) {
  CoreMachine::poke_used(0, core.queue_size(), position, id, len);
}

}  // namespace aerov::drivers::testing
