#include "tests/drivers/net_machine.hpp"

#include <random>
#include <stdexcept>
#include <string>

#include "transport/device/forwarding_device.hpp"

namespace aerov::drivers::testing {

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("net machine: ") + what);
}

}  // namespace

// Forwards everything to the device, except txq doorbells while held.
class NetMachine::Gate final : public transport::ForwardingDevice {
 public:
  Gate(NetMachine& m, transport::VirtioDevice& inner) : ForwardingDevice(inner), m_(m) {}
  void queue_notify(uint16_t q, transport::DeviceTransport& t) override {
    if (q == model::devices::NetDevice::kTxQueue && m_.hold_tx_) {
      ++m_.held_tx_;
      return;
    }
    inner().queue_notify(q, t);
  }
  void reset() override {
    m_.held_tx_ = 0;  // a reset forgets doorbells too
    inner().reset();
  }

 private:
  NetMachine& m_;
};

NetMachine::NetMachine(const NetMachineOptions& o) : options_(o) {
  device = std::make_unique<model::devices::NetDevice>(
      static_cast<model::backends::NetBackend*>(this), o.device);
  gate_ = std::make_unique<Gate>(*this, *device);
  set_msix_vectors(o.msix_vectors);
  CoreMachine::attach(*gate_, contract::kNet, o.hide_features);
  if (o.grant_messages != 0) os->grant_msix_messages(o.grant_messages);
  device->on_rx_pending = [this] { function->process_queue(model::devices::NetDevice::kRxQueue); };
  if (o.init) require(init() == w7::NetError::kNone, "core init");
}

NetMachine::~NetMachine() = default;

w7::NetError NetMachine::init() {
  w7::NetCoreConfig cfg{};
  cfg.on_tx_done = &NetMachine::on_tx_done;
  cfg.on_receive = &NetMachine::on_receive;
  cfg.on_link = &NetMachine::on_link;
  cfg.context = this;
  return core.init(*os, cfg);
}

void NetMachine::transmit(std::span<const uint8_t> frame) {
  sent.emplace_back(frame.begin(), frame.end());
  if (options_.loopback && port_ != nullptr) port_->receive_frame(frame);
}

void NetMachine::on_tx_done(void* context, void* cookie, w7::NetTxResult result) {
  auto* self = static_cast<NetMachine*>(context);
  for (auto& f : self->frames) {
    if (&f == cookie) {
      ++f.completions;
      f.result = result;
      return;
    }
  }
  ++self->stray_completions;
}

void NetMachine::on_receive(void* context, const uint8_t* frame, uint32_t length) {
  static_cast<NetMachine*>(context)->received.emplace_back(frame, frame + length);
}

void NetMachine::on_link(void* context, bool up) {
  static_cast<NetMachine*>(context)->link_events.push_back(up);
}

void NetMachine::release_tx() {
  const bool held = held_tx_ != 0;
  held_tx_ = 0;
  if (held) function->process_queue(model::devices::NetDevice::kTxQueue);
}

int NetMachine::deliver_messages() {
  return CoreMachine::deliver_messages([this](uint16_t m) { return core.message_interrupt(m); });
}

void NetMachine::service(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    const bool messages = deliver_messages() != 0;
    if (!intx.level() && !messages) return;
    if (intx.level()) core.interrupt();
  }
}

TestFrame& NetMachine::make(uint32_t length, std::vector<uint32_t> pieces, uint32_t seed) {
  TestFrame& f = frames.emplace_back();
  f.bytes.resize(length);
  std::mt19937 rng(seed);
  for (auto& b : f.bytes) b = static_cast<uint8_t>(rng());
  for (size_t i = 0; i < 6 && i < length; ++i) f.bytes[i] = device->mac()[i];
  if (pieces.empty()) pieces.push_back(length);
  uint32_t head = 0;
  for (size_t i = 0; i + 1 < pieces.size(); ++i) head += pieces[i];
  require(head <= length, "fragments longer than the frame");
  pieces.back() = length - head;
  uint32_t at = 0;
  for (uint32_t len : pieces) {
    const uint64_t gpa = alloc_buffer(len + 1);
    memory.write(gpa, f.bytes.data() + at, len);
    f.fragments.push_back(w7::NetFragment{gpa, len});
    at += len;
  }
  return f;
}

w7::NetError NetMachine::transmit(TestFrame& f) {
  w7::NetTxFrame frame{f.fragments.data(), static_cast<uint32_t>(f.fragments.size()), &f};
  return core.transmit(frame);
}

}  // namespace aerov::drivers::testing
