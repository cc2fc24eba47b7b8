#include "sim/device_stacks.hpp"

#include "sim/trace_channels.hpp"

namespace aerov::sim {

namespace {

void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t get32(std::span<const uint8_t> b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[at + static_cast<size_t>(i)];
  return v;
}

model::backends::FaultyDiskOptions disk_options(uint64_t seed) {
  model::backends::FaultyDiskOptions d;
  d.seed = seed;
  d.min_delay = 0;
  d.max_delay = 3;
  return d;
}

}  // namespace

BlkStack::BlkStack(uint64_t disk_seed, Mutant mutant)
    : ram(kSectors),
      disk(ram, disk_options(disk_seed)),
      device(backend_for(mutant)) {}

BlkStack::BlkStack(uint64_t sectors) : ram(sectors), disk(ram, disk_options(0)), device(ram) {}

model::backends::DiskBackend& BlkStack::backend_for(Mutant mutant) {
  if (mutant == Mutant::kDiskHidesErrors) return hider.emplace(disk);
  if (mutant == Mutant::kAssumesFifoBackend) return fifo.emplace(disk);
  if (mutant == Mutant::kReadLeavesAByte) return short_read.emplace(disk);
  return disk;
}

std::vector<uint8_t> BlkStack::delay_input(uint32_t min_polls, uint32_t max_polls) {
  std::vector<uint8_t> b;
  put32(b, min_polls);
  put32(b, max_polls);
  return b;
}

std::vector<uint8_t> BlkStack::errors_input(uint32_t per_million, uint8_t ops) {
  std::vector<uint8_t> b;
  put32(b, per_million);
  b.push_back(ops);
  return b;
}

bool BlkStack::apply(uint16_t ch, std::span<const uint8_t> bytes) {
  if (ch == channel::kDiskDelay && bytes.size() == 8) {
    disk.set_delay(get32(bytes, 0), get32(bytes, 4));
    return true;
  }
  if (ch == channel::kDiskErrors && bytes.size() == 5) {
    disk.set_error_rate(get32(bytes, 0), bytes[4]);
    return true;
  }
  return false;
}

bool NetStack::apply(uint16_t ch, std::span<const uint8_t> bytes) {
  if (ch == channel::kFrame) {
    device.deliver(bytes);
    return true;
  }
  if (ch == channel::kLink && bytes.size() == 1) {
    device.set_link_up(bytes[0] != 0);
    return true;
  }
  return false;
}

std::vector<uint8_t> InputStack::events_input(std::span<const model::devices::input::Event> events) {
  namespace in = model::devices::input;
  std::vector<uint8_t> b(events.size() * in::kEventBytes);
  for (size_t i = 0; i < events.size(); ++i) in::encode_event(events[i], b.data() + i * in::kEventBytes);
  return b;
}

bool InputStack::apply(uint16_t ch, std::span<const uint8_t> bytes) {
  namespace in = model::devices::input;
  if (ch != channel::kInputEvents || bytes.size() % in::kEventBytes != 0) return false;
  events_.clear();
  for (size_t at = 0; at < bytes.size(); at += in::kEventBytes) {
    events_.push_back(in::decode_event(bytes.data() + at));
  }
  device.inject(events_);  // a refused batch is the device's to count, as when recorded
  return true;
}

std::vector<uint8_t> SndStack::time_input(uint32_t frames) {
  std::vector<uint8_t> b;
  put32(b, frames);
  return b;
}

bool SndStack::apply(uint16_t ch, std::span<const uint8_t> bytes) {
  if (ch != channel::kSndTime || bytes.size() != 4) return false;
  device.advance(get32(bytes, 0));
  return true;
}

}  // namespace aerov::sim
