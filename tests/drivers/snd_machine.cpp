#include "tests/drivers/snd_machine.hpp"

#include <stdexcept>
#include <string>

#include "transport/device/forwarding_device.hpp"

namespace aerov::drivers::testing {

// Forwards everything to the device, except controlq doorbells while muted.
class SndMachine::Gate final : public transport::ForwardingDevice {
 public:
  Gate(SndMachine& m, transport::VirtioDevice& inner) : ForwardingDevice(inner), m_(m) {}
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override {
    if (q == model::devices::SndDevice::kControlQueue && m_.mute_control_) return;
    inner().queue_notify(q, t);
  }

 private:
  SndMachine& m_;
};

SndMachine::SndMachine(const SndMachineOptions& o) {
  device = std::make_unique<model::devices::SndDevice>(&sink, o.source);
  gate_ = std::make_unique<Gate>(*this, *device);
  set_msix_vectors(o.msix_vectors);
  CoreMachine::attach(*gate_, contract::kSnd);
  if (o.grant_messages != 0) os->grant_msix_messages(o.grant_messages);
  device->on_time_pending = [this] { function->process_queue(model::devices::SndDevice::kTxQueue); };
  if (o.init && init() != w7::SndError::kNone) throw std::runtime_error("snd machine: core init");
}

SndMachine::~SndMachine() = default;

w7::SndError SndMachine::init() {
  w7::SndCoreConfig cfg{};
  cfg.on_period = &SndMachine::on_period;
  cfg.context = this;
  return core.init(*os, cfg);
}

void SndMachine::on_period(void* context, uint32_t stream, uint64_t bytes_done) {
  static_cast<SndMachine*>(context)->period_events.emplace_back(stream, bytes_done);
}

CyclicBuffer SndMachine::make_buffer(uint32_t bytes) {
  const uint64_t gpa = alloc_buffer(bytes);
  CyclicBuffer b;
  b.region = w7::DmaRegion{memory.translate(gpa, bytes), gpa};
  b.bytes = bytes;
  if (b.region.va == nullptr) throw std::runtime_error("snd machine: buffer not in one RAM region");
  return b;
}

void SndMachine::advance(uint64_t frames) {
  device->advance(frames);
  service();
}

void SndMachine::service(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    const bool messages =
        CoreMachine::deliver_messages([this](uint16_t m) { return core.message_interrupt(m); }) != 0;
    if (!intx.level() && !messages) return;
    if (intx.level()) core.interrupt();
  }
}

}  // namespace aerov::drivers::testing
