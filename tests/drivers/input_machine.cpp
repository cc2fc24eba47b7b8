#include "tests/drivers/input_machine.hpp"

#include <stdexcept>

namespace aerov::drivers::testing {

using model::devices::InputDevice;

InputMachine::InputMachine(const InputMachineOptions& o) : options_(o) {
  device = std::make_unique<InputDevice>(o.device);
  set_msix_vectors(o.msix_vectors);
  CoreMachine::attach(*device, contract::kInput);
  if (o.grant_messages != 0) os->grant_msix_messages(o.grant_messages);
  device->on_events_pending = [this] { function->process_queue(InputDevice::kEventQueue); };
  device->on_led = [this](uint16_t led, bool on) { led_updates.emplace_back(led, on); };
  if (o.init && init() != w7::InputError::kNone) throw std::runtime_error("input machine: core init");
}

w7::InputError InputMachine::init() {
  w7::InputCoreConfig cfg{};
  cfg.on_report = &InputMachine::on_report;
  cfg.context = this;
  return core.init(*os, cfg);
}

void InputMachine::on_report(void* context, const uint8_t* report, uint32_t length) {
  auto* self = static_cast<InputMachine*>(context);
  ++self->report_count;
  if (self->options_.record) self->reports.emplace_back(report, report + length);
}

int InputMachine::deliver_messages() {
  return CoreMachine::deliver_messages([this](uint16_t m) { return core.message_interrupt(m); });
}

void InputMachine::service(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    const bool messages = deliver_messages() != 0;
    if (!intx.level() && !messages) return;
    if (intx.level()) core.interrupt();
  }
}

}  // namespace aerov::drivers::testing
