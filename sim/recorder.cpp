#include "sim/recorder.hpp"

#include <algorithm>

#include "sim/sim_machine.hpp"

namespace aerov::sim {

namespace make = traces::make;
namespace w7 = drivers::windows7;

// The core's OsServices: the machine's, with every access recorded.
class Recorder::Os final : public w7::OsServices {
 public:
  Os(Recorder& r, drivers::host::ModelOsServices& inner) : r_(r), inner_(inner) {}

  uint32_t config_read(uint16_t offset, uint8_t width) override {
    ++r_.in_access_;
    const uint32_t v = inner_.config_read(offset, width);
    r_.writer_.write(make::config_read(r_.now(), 0, offset, width, v));
    --r_.in_access_;
    r_.flush_pending();
    return v;
  }
  void config_write(uint16_t offset, uint8_t width, uint32_t value) override {
    r_.driver_changes();
    r_.writer_.write(make::config_write(r_.now(), 0, offset, width, value));
    ++r_.in_access_;
    inner_.config_write(offset, width, value);
    --r_.in_access_;
    r_.flush_pending();
    r_.device_changes();
  }
  uint32_t mmio_read(uint8_t bar, uint32_t offset, uint8_t width) override {
    ++r_.in_access_;
    const uint32_t v = inner_.mmio_read(bar, offset, width);
    r_.writer_.write(make::mmio_read(r_.now(), 0, bar, offset, width, v));
    --r_.in_access_;
    r_.flush_pending();
    return v;
  }
  void mmio_write(uint8_t bar, uint32_t offset, uint8_t width, uint32_t value) override {
    r_.driver_changes();
    r_.writer_.write(make::mmio_write(r_.now(), 0, bar, offset, width, value));
    ++r_.in_access_;
    inner_.mmio_write(bar, offset, width, value);
    --r_.in_access_;
    r_.flush_pending();
    r_.device_changes();
  }
  bool bar_info(uint8_t bar, transport::BarInfo* out) override { return inner_.bar_info(bar, out); }
  void lock() override { inner_.lock(); }
  void unlock() override { inner_.unlock(); }
  void stall_us(uint32_t us) override { inner_.stall_us(us); }
  bool alloc_dma(uint32_t bytes, uint32_t alignment, w7::DmaRegion* out) override {
    return inner_.alloc_dma(bytes, alignment, out);
  }
  void log(w7::LogLevel level, const char* message, const uint64_t* args,
           uint8_t num_args) override {
    inner_.log(level, message, args, num_args);
  }
  uint16_t msix_messages_granted() override { return inner_.msix_messages_granted(); }

 private:
  Recorder& r_;
  drivers::host::ModelOsServices& inner_;
};

Recorder::Recorder(SimMachine& machine, const std::string& path,
                   const traces::Provenance& provenance)
    : m_(machine), writer_(path, provenance), shadow_(machine.memory, machine.used_ranges()),
      os_(std::make_unique<Os>(*this, *machine.os)) {
  m_.memory.set_dirty_logging(true);
}

Recorder::~Recorder() = default;

w7::OsServices& Recorder::os() { return *os_; }

uint64_t Recorder::now() const { return m_.now(); }

// The driver side writes guest RAM through GuestMemory (logged) or, for
// the core, through host pointers into the DMA memory it was given: that
// window is compared every time.
void Recorder::driver_changes() {
  m_.memory.take_dirty_spans(spans_);
  spans_.push_back({m_.os->window_gpa(), m_.os->window_used()});
  shadow_.sync_spans(spans_, [this](uint64_t gpa, std::span<const uint8_t> bytes) {
    writer_.write(make::mem_write(now(), gpa, bytes));
  });
}

// The device models report what they write (the dirty log). Before each
// state hash a full comparison audits that: a change nobody logged is
// written as a dma_write, which no replay reproduces, so it surfaces as a
// divergence instead of passing unseen.
void Recorder::device_changes() {
  const auto dma_write = [this](uint64_t gpa, std::span<const uint8_t> bytes) {
    writer_.write(make::dma_write(now(), 0, gpa, bytes));
  };
  m_.memory.take_dirty_spans(spans_);
  shadow_.sync_spans(spans_, dma_write);
  if (writer_.state_hash_due()) {
    shadow_.sync(dma_write);
    writer_.write(make::state_hash(now(), shadow_.hash()));
  }
}

void Recorder::device_event(traces::Event event) {
  if (in_access_ > 0) {
    pending_.push_back(std::move(event));
  } else {
    writer_.write(event);
  }
}

void Recorder::flush_pending() {
  for (const auto& e : pending_) writer_.write(e);
  pending_.clear();
}

void Recorder::doorbell_begin(uint16_t queue) {
  driver_changes();
  writer_.write(make::doorbell(now(), 0, queue));
}

void Recorder::doorbell_end() { device_changes(); }

void Recorder::intx(bool level) { device_event(make::intx(now(), 0, level ? 1 : 0)); }

void Recorder::msi(uint64_t address, uint32_t data) {
  device_event(make::msi(now(), 0, address, data));
}

void Recorder::host_input(uint16_t channel, std::span<const uint8_t> bytes) {
  driver_changes();
  writer_.write(make::host_input(now(), 0, channel, bytes));
}

void Recorder::host_output(uint16_t channel, std::span<const uint8_t> bytes) {
  device_event(make::host_output(now(), 0, channel, bytes));
}

void Recorder::finish() {
  shadow_.sync([this](uint64_t gpa, std::span<const uint8_t> bytes) {
    writer_.write(make::dma_write(now(), 0, gpa, bytes));
  });
  writer_.write(make::state_hash(now(), shadow_.hash()));
  writer_.finish();
}

}  // namespace aerov::sim
