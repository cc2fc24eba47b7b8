#include "sim/device_recorder.hpp"

#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "sim/trace_channels.hpp"
#include "transport/virtio_pci_regs.hpp"

namespace aerov::sim {

namespace {

namespace make = traces::make;
namespace common = transport::common;
namespace bar = transport::bar0;

}  // namespace

DeviceRecorder::DeviceRecorder(transport::VirtioDevice& inner, std::string path,
                               traces::Provenance provenance)
    : ForwardingDevice(inner), path_(std::move(path)), provenance_(std::move(provenance)) {}

DeviceRecorder::~DeviceRecorder() {
  if (live_ != nullptr) live_->set_observer(nullptr);
}

std::string DeviceRecorder::unrecordable(transport::DeviceTransport& t) const {
  for (const auto& r : t.memory().regions()) {
    if (r.gpa + r.size > kGuestRunRamLimit) return "guest RAM above 1 GiB (kGuestRunRamLimit) is not replayed";
  }
  for (uint16_t q = 0; q < num_queues(); ++q) {
    const auto& ring = t.queue(q);
    if (ring.config().size != queue_size(q)) {
      return "ring " + std::to_string(q) + " has " + std::to_string(ring.config().size) +
             " entries, the device " + std::to_string(queue_size(q)) +
             ": the PCI transport has no smaller rings";
    }
    if (ring.next_avail() != 0) {
      return "ring " + std::to_string(q) + " restarted at avail index " +
             std::to_string(ring.next_avail()) + ": a PCI device starts at 0";
    }
  }
  return "";
}

// The guest's memory table is known at the first activation: it becomes
// the trace's watched ranges and the replay's RAM.
void DeviceRecorder::start(transport::DeviceTransport& t) {
  if (writer_) return;
  nlohmann::ordered_json cfg = nlohmann::ordered_json::parse(provenance_.config_json, nullptr, false);
  if (!cfg.is_object()) cfg = nlohmann::ordered_json::object();
  uint64_t ram_end = 0;
  nlohmann::json ranges = nlohmann::json::array();
  std::vector<MemoryShadow::Range> shadow_ranges;
  for (const auto& r : t.memory().regions()) {
    ranges.push_back({r.gpa, r.gpa + r.size});
    shadow_ranges.emplace_back(r.gpa, r.gpa + r.size);
    if (mirror_.add_ram(r.gpa, r.size) != model::MemError::kOk) {
      stopped_ = "guest memory region " + std::to_string(r.gpa) + "+" + std::to_string(r.size) +
                 " is not page-aligned RAM";
      return;
    }
    ram_end = std::max(ram_end, r.gpa + r.size);
  }
  cfg["source"] = "vhost-user";
  cfg["ram_bytes"] = (ram_end + model::GuestMemory::kPageSize - 1) & ~(model::GuestMemory::kPageSize - 1);
  cfg["ranges"] = ranges;
  provenance_.config_json = cfg.dump();
  try {
    writer_ = std::make_unique<traces::TraceWriter>(path_, provenance_);
  } catch (const std::exception& e) {
    stopped_ = std::string("cannot write the trace: ") + e.what();
    return;
  }
  shadow_ = std::make_unique<MemoryShadow>(mirror_, shadow_ranges);
  mirror_.set_dirty_logging(true);
}

void DeviceRecorder::activate(transport::DeviceTransport& t) {
  if (stopped_.empty()) {
    if (const std::string why = unrecordable(t); !why.empty()) {
      stop(why);
    } else {
      start(t);
    }
  }
  if (!stopped_.empty()) return ForwardingDevice::activate(t);
  live_ = &t.memory();
  live_->set_observer(this);
  const auto w = [this](uint32_t offset, uint8_t width, uint32_t value) {
    return make::mmio_write(time_, 0, 0, bar::kCommonOffset + offset, width, value);
  };
  using namespace transport;
  const uint64_t features = t.negotiated_features();
  std::vector<traces::Event> setup = {
      w(common::kDeviceStatus, 1, 0),
      w(common::kDeviceStatus, 1, kStatusAcknowledge),
      w(common::kDeviceStatus, 1, kStatusAcknowledge | kStatusDriver),
      w(common::kDriverFeatureSelect, 4, 0),
      w(common::kDriverFeature, 4, static_cast<uint32_t>(features)),
      w(common::kDriverFeatureSelect, 4, 1),
      w(common::kDriverFeature, 4, static_cast<uint32_t>(features >> 32)),
      w(common::kDeviceStatus, 1, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk),
  };
  for (uint16_t q = 0; q < num_queues(); ++q) {
    const auto& c = t.queue(q).config();
    setup.push_back(w(common::kQueueSelect, 2, q));
    for (const auto& [reg, gpa] : {std::pair{common::kQueueDesc, c.desc}, std::pair{common::kQueueAvail, c.avail},
                                   std::pair{common::kQueueUsed, c.used}}) {
      setup.push_back(w(reg, 4, static_cast<uint32_t>(gpa)));
      setup.push_back(w(reg + 4, 4, static_cast<uint32_t>(gpa >> 32)));
    }
    setup.push_back(w(common::kQueueEnable, 2, 1));
  }
  setup.push_back(w(common::kDeviceStatus, 1,
                    kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk));
  active_ = true;
  activity(setup, [&] { ForwardingDevice::activate(t); });
}

void DeviceRecorder::queue_notify(uint16_t q, transport::DeviceTransport& t) {
  if (!active_) return ForwardingDevice::queue_notify(q, t);
  activity({make::doorbell(time_, 0, q)}, [&] { ForwardingDevice::queue_notify(q, t); });
}

void DeviceRecorder::reset() {
  if (!active_) return ForwardingDevice::reset();
  activity({make::mmio_write(time_, 0, 0, bar::kCommonOffset + common::kDeviceStatus, 1, 0)},
           [&] { ForwardingDevice::reset(); });
  active_ = false;
  if (live_ != nullptr) live_->set_observer(nullptr);
  live_ = nullptr;
}

void DeviceRecorder::interrupt(uint16_t) {
  if (!active_) return;
  if (!in_activity_) return stop("the device interrupted outside any activity");
  // The INTx line rises once; the ISR read after the activity drops it.
  if (!interrupted_) effects_.push_back(make::intx(time_, 0, 1));
  interrupted_ = true;
}

void DeviceRecorder::host_output(uint16_t channel, std::span<const uint8_t> bytes) {
  if (!active_) return;
  if (!in_activity_) return stop("the device sent to the host outside any activity");
  effects_.push_back(make::host_output(time_, 0, channel, bytes));
}

void RecordingNetBackend::transmit(std::span<const uint8_t> frame) {
  if (recorder != nullptr) recorder->host_output(channel::kSent, frame);
  peer_.transmit(frame);
}

void DeviceRecorder::device_read(uint64_t gpa, const uint8_t* bytes, uint64_t len) {
  if (!in_activity_) return stop("the device read guest memory outside any activity");
  reads_.push_back(Access{gpa, std::vector<uint8_t>(bytes, bytes + len)});
}

void DeviceRecorder::device_wrote(uint64_t gpa, uint64_t len) {
  if (!in_activity_) return stop("the device wrote guest memory outside any activity");
  Access a{gpa, std::vector<uint8_t>(len)};
  live_->set_observer(nullptr);  // our own read is not the device's
  const bool ok = live_->read(gpa, a.bytes.data(), len) == model::MemError::kOk;
  live_->set_observer(this);
  if (!ok) return stop("the device reported a write outside guest memory");
  writes_.push_back(std::move(a));
}

template <typename Fn>
void DeviceRecorder::activity(const std::vector<traces::Event>& trigger, Fn&& fn) {
  reads_.clear();
  writes_.clear();
  effects_.clear();
  interrupted_ = false;
  in_activity_ = true;
  fn();
  in_activity_ = false;
  if (!stopped_.empty()) return;
  try {
    write_activity(trigger);
  } catch (const std::exception& e) {  // the trace file could not be written
    stop(std::string("cannot write the trace: ") + e.what());
  }
}

void DeviceRecorder::write_activity(const std::vector<traces::Event>& trigger) {
  // What the device saw, where the replay's memory would show otherwise.
  std::vector<uint8_t> had;
  for (const Access& r : reads_) {
    had.resize(r.bytes.size());
    if (mirror_.read(r.gpa, had.data(), had.size()) != model::MemError::kOk) {
      return stop("the device read outside the guest memory table");
    }
    if (had != r.bytes) {
      shadow_->apply(mirror_, r.gpa, r.bytes);
      writer_->write(make::mem_write(time_, r.gpa, r.bytes));
    }
  }
  for (traces::Event e : trigger) {
    e.time_cycles = time_;
    writer_->write(e);
  }
  for (const traces::Event& e : effects_) writer_->write(e);
  for (const Access& a : writes_) mirror_.write(a.gpa, a.bytes.data(), a.bytes.size());
  mirror_.take_dirty_spans(spans_);
  shadow_->sync_spans(spans_, [this](uint64_t gpa, std::span<const uint8_t> bytes) {
    writer_->write(make::dma_write(time_, 0, gpa, bytes));
  });
  if (interrupted_) {
    writer_->write(make::mmio_read(time_, 0, 0, bar::kIsrOffset, 1, transport::kIsrQueue));
    writer_->write(make::intx(time_, 0, 0));
  }
  if (writer_->state_hash_due()) writer_->write(make::state_hash(time_, shadow_->hash()));
  ++time_;
}

void DeviceRecorder::stop(const std::string& why) {
  if (!stopped_.empty()) return;
  stopped_ = why;
  try {
    if (writer_) writer_->write(make::note(time_, "recording stopped: " + why));
  } catch (const std::exception&) {
    // The note is a courtesy; `why` is still reported by finish().
  }
  if (live_ != nullptr) live_->set_observer(nullptr);
  live_ = nullptr;
  active_ = false;
}

std::string DeviceRecorder::finish() {
  if (writer_) {
    try {
      writer_->write(make::state_hash(time_, shadow_->hash()));
      writer_->finish();
    } catch (const std::exception& e) {
      if (stopped_.empty()) stopped_ = std::string("cannot write the trace: ") + e.what();
    }
  } else if (stopped_.empty()) {
    stopped_ = "the device was never activated";
  }
  return stopped_;
}

}  // namespace aerov::sim
