#include "transport/vhost_user/vhost_user_backend.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aerov::transport::vhost_user {

std::string_view request_name(uint32_t request) {
  switch (static_cast<Request>(request)) {
    case Request::kGetFeatures: return "GET_FEATURES";
    case Request::kSetFeatures: return "SET_FEATURES";
    case Request::kSetOwner: return "SET_OWNER";
    case Request::kResetOwner: return "RESET_OWNER";
    case Request::kSetMemTable: return "SET_MEM_TABLE";
    case Request::kSetLogBase: return "SET_LOG_BASE";
    case Request::kSetLogFd: return "SET_LOG_FD";
    case Request::kSetVringNum: return "SET_VRING_NUM";
    case Request::kSetVringAddr: return "SET_VRING_ADDR";
    case Request::kSetVringBase: return "SET_VRING_BASE";
    case Request::kGetVringBase: return "GET_VRING_BASE";
    case Request::kSetVringKick: return "SET_VRING_KICK";
    case Request::kSetVringCall: return "SET_VRING_CALL";
    case Request::kSetVringErr: return "SET_VRING_ERR";
    case Request::kGetProtocolFeatures: return "GET_PROTOCOL_FEATURES";
    case Request::kSetProtocolFeatures: return "SET_PROTOCOL_FEATURES";
    case Request::kGetQueueNum: return "GET_QUEUE_NUM";
    case Request::kSetVringEnable: return "SET_VRING_ENABLE";
    case Request::kSendRarp: return "SEND_RARP";
    case Request::kNetSetMtu: return "NET_SET_MTU";
    case Request::kSetBackendReqFd: return "SET_BACKEND_REQ_FD";
    case Request::kIotlbMsg: return "IOTLB_MSG";
    case Request::kSetVringEndian: return "SET_VRING_ENDIAN";
    case Request::kGetConfig: return "GET_CONFIG";
    case Request::kSetConfig: return "SET_CONFIG";
    case Request::kGetInflightFd: return "GET_INFLIGHT_FD";
    case Request::kSetInflightFd: return "SET_INFLIGHT_FD";
    case Request::kResetDevice: return "RESET_DEVICE";
    case Request::kGetMaxMemSlots: return "GET_MAX_MEM_SLOTS";
    case Request::kSetStatus: return "SET_STATUS";
    case Request::kGetStatus: return "GET_STATUS";
  }
  return "UNKNOWN";
}

std::string_view to_string(VhostError e) {
  switch (e) {
    case VhostError::kNone: return "none";
    case VhostError::kBadVersion: return "bad header version";
    case VhostError::kPayloadTooLarge: return "payload too large";
    case VhostError::kBadPayloadSize: return "payload size does not match the request";
    case VhostError::kUnknownRequest: return "request not implemented";
    case VhostError::kBadRingIndex: return "ring index out of range";
    case VhostError::kBadRingSize: return "ring size not a power of two in 1..32768";
    case VhostError::kTooManyRegions: return "memory table region count out of range";
    case VhostError::kFdCountMismatch: return "file descriptor count does not match the request";
    case VhostError::kBadRegion: return "bad memory region";
    case VhostError::kMmapFailed: return "mapping a memory region failed";
    case VhostError::kAddressNotMapped: return "address outside the memory table";
    case VhostError::kRingRejected: return "ring rejected";
    case VhostError::kNoMemoryTable: return "no memory table";
    case VhostError::kBadConfigRange: return "config access outside the window";
  }
  return "?";
}

VhostError check_header(const MsgHeader& header) {
  if ((header.flags & kVersionMask) != kVersion) return VhostError::kBadVersion;
  if (header.size > kMaxPayloadBytes) return VhostError::kPayloadTooLarge;
  return VhostError::kNone;
}

namespace {

void close_all(std::vector<int>& fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  fds.clear();
}

template <typename T>
bool read_payload(const Message& m, T& out) {
  if (m.payload.size() != sizeof(T)) return false;
  std::memcpy(&out, m.payload.data(), sizeof(T));
  return true;
}

template <typename T>
Reply make_reply(uint32_t request, const T& value) {
  Reply r{request, std::vector<uint8_t>(sizeof(T))};
  std::memcpy(r.payload.data(), &value, sizeof(T));
  return r;
}

// Requests whose reply is part of the protocol (REPLY_ACK does not add one).
bool has_own_reply(uint32_t request) {
  switch (static_cast<Request>(request)) {
    case Request::kGetFeatures:
    case Request::kGetProtocolFeatures:
    case Request::kGetVringBase:
    case Request::kGetQueueNum:
    case Request::kGetConfig:
      return true;
    default:
      return false;
  }
}

}  // namespace

VhostUserBackend::Memory::~Memory() {
  for (const Mapping& m : mappings) ::munmap(m.addr, m.len);
}

VhostUserBackend::VhostUserBackend(VirtioDevice& device, uint64_t offered_protocol_features)
    : device_(device), offered_protocol_features_(offered_protocol_features & kOfferedProtocolFeatures) {
  const uint16_t n = device.num_queues();
  rings_.resize(n < kMaxRings ? n : kMaxRings);
}

VhostUserBackend::~VhostUserBackend() { disconnect(); }

VhostError VhostUserBackend::fail(VhostError e, std::string detail) {
  last_error_code_ = e;
  last_error_ = std::string(to_string(e)) + ": " + detail;
  ++stats_.errors;
  return e;
}

std::optional<Reply> VhostUserBackend::handle(Message& m) {
  ++stats_.messages;
  std::optional<Reply> reply;
  const VhostError e = dispatch(m, reply);
  close_all(m.fds);  // whatever the handler did not keep
  if (e != VhostError::kNone) {
    if (last_error_code_ != e) fail(e, "payload of " + std::to_string(m.payload.size()) + " bytes");
    last_error_ = std::string(request_name(m.request)) + ": " + last_error_;
  }
  if (!has_own_reply(m.request) && (m.flags & kFlagNeedReply) != 0 &&
      (protocol_features_ & kProtocolReplyAck) != 0) {
    const uint64_t status = e == VhostError::kNone ? 0 : 1;
    return make_reply(m.request, status);
  }
  return reply;
}

VhostError VhostUserBackend::ring_index(uint64_t raw, uint16_t& q) const {
  if (raw >= rings_.size()) return VhostError::kBadRingIndex;
  q = static_cast<uint16_t>(raw);
  return VhostError::kNone;
}

VhostError VhostUserBackend::dispatch(Message& m, std::optional<Reply>& reply) {
  last_error_code_ = VhostError::kNone;
  const bool takes_fds = m.request == static_cast<uint32_t>(Request::kSetMemTable) ||
                         m.request == static_cast<uint32_t>(Request::kSetVringKick) ||
                         m.request == static_cast<uint32_t>(Request::kSetVringCall) ||
                         m.request == static_cast<uint32_t>(Request::kSetVringErr) ||
                         m.request == static_cast<uint32_t>(Request::kSetBackendReqFd);
  if (!takes_fds && !m.fds.empty()) return fail(VhostError::kFdCountMismatch, "unexpected descriptors");
  uint64_t u64 = 0;
  VringState state{};
  uint16_t q = 0;
  switch (static_cast<Request>(m.request)) {
    case Request::kGetFeatures:
      if (!m.payload.empty() && m.payload.size() != 8) return VhostError::kBadPayloadSize;
      reply = make_reply(m.request, device_.device_features() | kFeatureProtocolFeatures);
      return VhostError::kNone;
    case Request::kSetFeatures:
      if (!read_payload(m, u64)) return VhostError::kBadPayloadSize;
      features_ = u64 & (device_.device_features() | kFeatureProtocolFeatures);
      return VhostError::kNone;
    case Request::kGetProtocolFeatures:
      reply = make_reply(m.request, offered_protocol_features_);
      return VhostError::kNone;
    case Request::kSetProtocolFeatures:
      if (!read_payload(m, u64)) return VhostError::kBadPayloadSize;
      protocol_features_ = u64 & offered_protocol_features_;
      return VhostError::kNone;
    case Request::kGetQueueNum:
      reply = make_reply(m.request, static_cast<uint64_t>(rings_.size()));
      return VhostError::kNone;
    case Request::kSetOwner:
      return VhostError::kNone;
    case Request::kResetOwner:
    case Request::kResetDevice:
      reset_all();
      return VhostError::kNone;
    case Request::kSetMemTable:
      return set_mem_table(m);
    case Request::kSetVringNum:
      if (!read_payload(m, state)) return VhostError::kBadPayloadSize;
      if (ring_index(state.index, q) != VhostError::kNone) return VhostError::kBadRingIndex;
      if (state.num == 0 || state.num > 32768 || (state.num & (state.num - 1)) != 0) {
        return fail(VhostError::kBadRingSize, "ring " + std::to_string(q) + " size " + std::to_string(state.num));
      }
      if (state.num > device_.queue_size(q)) {
        return fail(VhostError::kBadRingSize, "ring " + std::to_string(q) + " size " + std::to_string(state.num) +
                                                  " above the device's " + std::to_string(device_.queue_size(q)));
      }
      rings_[q].num = state.num;
      return VhostError::kNone;
    case Request::kSetVringAddr:
      return set_vring_addr(m);
    case Request::kSetVringBase:
      if (!read_payload(m, state)) return VhostError::kBadPayloadSize;
      if (ring_index(state.index, q) != VhostError::kNone) return VhostError::kBadRingIndex;
      rings_[q].base = static_cast<uint16_t>(state.num);
      return VhostError::kNone;
    case Request::kGetVringBase:
      return get_vring_base(m, reply);
    case Request::kSetVringKick:
      return set_vring_fd(m, true);
    case Request::kSetVringCall:
      return set_vring_fd(m, false);
    case Request::kSetVringErr:
      if (!read_payload(m, u64)) return VhostError::kBadPayloadSize;
      if (ring_index(u64 & kVringIndexMask, q) != VhostError::kNone) return VhostError::kBadRingIndex;
      return VhostError::kNone;  // we never report ring errors this way; handle() closes the fd
    case Request::kSetVringEnable:
      if (!read_payload(m, state)) return VhostError::kBadPayloadSize;
      if (ring_index(state.index, q) != VhostError::kNone) return VhostError::kBadRingIndex;
      rings_[q].enabled = state.num != 0;
      if (rings_[q].enabled && rings_[q].started && active_) kick(q);
      return VhostError::kNone;
    case Request::kGetConfig:
      return get_config(m, reply);
    case Request::kSetConfig:
      return set_config(m);
    case Request::kSetBackendReqFd:
      return VhostError::kNone;  // not offered; the descriptor is closed
    default:
      return fail(VhostError::kUnknownRequest,
                  std::string(request_name(m.request)) + " (" + std::to_string(m.request) + ")");
  }
}

VhostError VhostUserBackend::set_mem_table(Message& m) {
  MemTableHeader h{};
  if (m.payload.size() < sizeof(h)) return VhostError::kBadPayloadSize;
  std::memcpy(&h, m.payload.data(), sizeof(h));
  if (h.nregions == 0 || h.nregions > kMaxRegions) {
    return fail(VhostError::kTooManyRegions, std::to_string(h.nregions) + " regions");
  }
  if (m.payload.size() != sizeof(h) + h.nregions * sizeof(MemRegion)) return VhostError::kBadPayloadSize;
  if (m.fds.size() != h.nregions) {
    return fail(VhostError::kFdCountMismatch,
                std::to_string(m.fds.size()) + " descriptors for " + std::to_string(h.nregions) + " regions");
  }
  auto mem = std::make_unique<Memory>();
  for (uint32_t i = 0; i < h.nregions; ++i) {
    MemRegion r{};
    std::memcpy(&r, m.payload.data() + sizeof(h) + i * sizeof(MemRegion), sizeof(r));
    const std::string where = "region " + std::to_string(i);
    if (r.memory_size == 0 || r.guest_phys_addr + r.memory_size < r.guest_phys_addr ||
        r.userspace_addr + r.memory_size < r.userspace_addr || r.mmap_offset + r.memory_size < r.mmap_offset ||
        r.mmap_offset + r.memory_size > (1ull << 47)) {
      return fail(VhostError::kBadRegion, where + " size or offsets wrap");
    }
    for (const MemRegion& o : mem->table) {
      if (r.userspace_addr < o.userspace_addr + o.memory_size && o.userspace_addr < r.userspace_addr + r.memory_size) {
        return fail(VhostError::kBadRegion, where + " overlaps another in front-end addresses");
      }
    }
    // Map from offset 0 so mmap_offset needs no page alignment.
    const size_t len = static_cast<size_t>(r.mmap_offset + r.memory_size);
    // A mapping past the end of its file faults (SIGBUS) on first touch:
    // the region must lie inside the file the front-end sent.
    struct stat st{};
    if (::fstat(m.fds[i], &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) < len) {
      return fail(VhostError::kBadRegion, where + " reaches past the end of its file descriptor");
    }
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m.fds[i], 0);
    if (p == MAP_FAILED) {
      return fail(VhostError::kMmapFailed, where + ": " + std::strerror(errno));
    }
    mem->mappings.push_back(Mapping{p, len});
    if (mem->guest.add_external(r.guest_phys_addr, r.memory_size, static_cast<uint8_t*>(p) + r.mmap_offset) !=
        model::MemError::kOk) {
      return fail(VhostError::kBadRegion, where + " overlaps another in guest-physical addresses, or its" +
                                              " mmap_offset and guest address differ modulo 16");
    }
    mem->table.push_back(r);
  }
  ++stats_.mem_tables;
  // Same layout again (QEMU resends on every start): keep what we have, so
  // pointers the device caches stay valid.
  if (memory_ != nullptr && memory_->table.size() == mem->table.size() &&
      std::memcmp(memory_->table.data(), mem->table.data(), mem->table.size() * sizeof(MemRegion)) == 0) {
    return VhostError::kNone;
  }
  if (memory_ != nullptr) retired_.push_back(std::move(memory_));
  memory_ = std::move(mem);
  // Rings that run keep their positions across the new mapping.
  for (uint16_t q = 0; q < rings_.size(); ++q) {
    if (!rings_[q].started) continue;
    rings_[q].base = rings_[q].queue.next_avail();
    rings_[q].started = false;
    const VhostError e = start_ring(q);
    if (e != VhostError::kNone) return e;
  }
  return VhostError::kNone;
}

std::optional<uint64_t> VhostUserBackend::to_gpa(uint64_t ua, const Memory& mem) const {
  for (const MemRegion& r : mem.table) {
    if (ua >= r.userspace_addr && ua - r.userspace_addr < r.memory_size) {
      return r.guest_phys_addr + (ua - r.userspace_addr);
    }
  }
  return std::nullopt;
}

VhostError VhostUserBackend::set_vring_addr(const Message& m) {
  VringAddr a{};
  uint16_t q = 0;
  if (!read_payload(m, a)) return VhostError::kBadPayloadSize;
  if (ring_index(a.index, q) != VhostError::kNone) return VhostError::kBadRingIndex;
  Ring& r = rings_[q];
  r.desc_ua = a.desc_user_addr;
  r.avail_ua = a.avail_user_addr;
  r.used_ua = a.used_user_addr;
  r.addr_set = true;
  return VhostError::kNone;
}

VhostError VhostUserBackend::set_vring_fd(Message& m, bool is_kick) {
  uint64_t u64 = 0;
  uint16_t q = 0;
  if (!read_payload(m, u64)) return VhostError::kBadPayloadSize;
  if (ring_index(u64 & kVringIndexMask, q) != VhostError::kNone) return VhostError::kBadRingIndex;
  const bool no_fd = (u64 & kVringNoFd) != 0;
  if (m.fds.size() != (no_fd ? 0u : 1u)) {
    return fail(VhostError::kFdCountMismatch, "ring " + std::to_string(q));
  }
  Ring& r = rings_[q];
  int& slot = is_kick ? r.kick : r.call;
  if (slot >= 0) ::close(slot);
  slot = no_fd ? -1 : m.fds[0];
  if (!no_fd) m.fds.clear();  // kept
  if (!is_kick) return VhostError::kNone;
  if (no_fd) return fail(VhostError::kUnknownRequest, "ring " + std::to_string(q) + ": polling mode is not offered");
  if (r.started) stop_ring(q);
  return start_ring(q);
}

VhostError VhostUserBackend::start_ring(uint16_t q) {
  Ring& r = rings_[q];
  const std::string ring = "ring " + std::to_string(q);
  if (memory_ == nullptr) return fail(VhostError::kNoMemoryTable, ring);
  if (!r.addr_set || r.num == 0) return fail(VhostError::kRingRejected, ring + ": size or addresses not set");
  const auto desc = to_gpa(r.desc_ua, *memory_);
  const auto avail = to_gpa(r.avail_ua, *memory_);
  const auto used = to_gpa(r.used_ua, *memory_);
  if (!desc || !avail || !used) return fail(VhostError::kAddressNotMapped, ring);
  virtqueue::DeviceQueueConfig cfg;
  cfg.size = static_cast<uint16_t>(r.num);
  cfg.desc = *desc;
  cfg.avail = *avail;
  cfg.used = *used;
  cfg.indirect = (features_ & kFeatureRingIndirectDesc) != 0;
  cfg.event_idx = (features_ & kFeatureRingEventIdx) != 0;
  const virtqueue::RingError e = r.queue.configure(memory_->guest, cfg);
  if (e != virtqueue::RingError::kNone) {
    return fail(VhostError::kRingRejected, ring + ": " + std::string(virtqueue::to_string(e)));
  }
  r.queue.set_base(r.base);
  r.started = true;
  // Without the protocol-feature extension a started ring is enabled.
  if ((features_ & kFeatureProtocolFeatures) == 0) r.enabled = true;
  if (!active_) {
    for (const Ring& other : rings_) {
      if (!other.started) return VhostError::kNone;
    }
    needs_reset_ = false;
    device_.activate(*this);
    active_ = true;
    ++stats_.activations;
  }
  // Buffers made available before the kick descriptor arrived.
  for (uint16_t i = 0; i < rings_.size(); ++i) kick(i);
  return VhostError::kNone;
}

void VhostUserBackend::stop_ring(uint16_t q) {
  Ring& r = rings_[q];
  if (!r.started) return;
  if (active_) {
    device_.reset();
    active_ = false;
  }
  r.base = r.queue.next_avail();
  r.queue.reset();
  r.started = false;
}

VhostError VhostUserBackend::get_vring_base(const Message& m, std::optional<Reply>& reply) {
  VringState state{};
  uint16_t q = 0;
  if (!read_payload(m, state)) return VhostError::kBadPayloadSize;
  if (ring_index(state.index, q) != VhostError::kNone) return VhostError::kBadRingIndex;
  stop_ring(q);
  Ring& r = rings_[q];
  if (r.kick >= 0) ::close(r.kick);
  r.kick = -1;
  r.enabled = false;
  reply = make_reply(m.request, VringState{q, r.base});
  return VhostError::kNone;
}

VhostError VhostUserBackend::get_config(const Message& m, std::optional<Reply>& reply) {
  ConfigHeader h{};
  if (m.payload.size() < sizeof(h)) return VhostError::kBadPayloadSize;
  std::memcpy(&h, m.payload.data(), sizeof(h));
  if (m.payload.size() != sizeof(h) + h.size) return VhostError::kBadPayloadSize;
  if (h.size > kMaxConfigBytes || h.offset > kMaxConfigBytes - h.size) {
    return fail(VhostError::kBadConfigRange, "offset " + std::to_string(h.offset) + " size " + std::to_string(h.size));
  }
  Reply r{m.request, std::vector<uint8_t>(sizeof(h) + h.size)};
  std::memcpy(r.payload.data(), &h, sizeof(h));
  for (uint32_t i = 0; i < h.size; ++i) {
    r.payload[sizeof(h) + i] = static_cast<uint8_t>(device_.config_read(h.offset + i, 1));
  }
  reply = std::move(r);
  return VhostError::kNone;
}

VhostError VhostUserBackend::set_config(const Message& m) {
  ConfigHeader h{};
  if (m.payload.size() < sizeof(h)) return VhostError::kBadPayloadSize;
  std::memcpy(&h, m.payload.data(), sizeof(h));
  if (m.payload.size() != sizeof(h) + h.size) return VhostError::kBadPayloadSize;
  if (h.size > kMaxConfigBytes || h.offset > kMaxConfigBytes - h.size) {
    return fail(VhostError::kBadConfigRange, "offset " + std::to_string(h.offset) + " size " + std::to_string(h.size));
  }
  for (uint32_t i = 0; i < h.size; ++i) device_.config_write(h.offset + i, 1, m.payload[sizeof(h) + i]);
  return VhostError::kNone;
}

void VhostUserBackend::kick(uint16_t q) {
  if (q >= rings_.size()) return;
  ++stats_.kicks;
  if (!active_ || needs_reset_ || !rings_[q].started) return;
  device_.queue_notify(q, *this);
}

void VhostUserBackend::poll_all() {
  for (uint16_t q = 0; q < rings_.size(); ++q) {
    if (active_ && !needs_reset_ && rings_[q].started) device_.queue_notify(q, *this);
  }
}

std::vector<VhostUserBackend::KickFd> VhostUserBackend::kick_fds() const {
  std::vector<KickFd> out;
  for (uint16_t q = 0; q < rings_.size(); ++q) {
    if (rings_[q].started && rings_[q].kick >= 0) out.push_back(KickFd{q, rings_[q].kick});
  }
  return out;
}

void VhostUserBackend::reset_all() {
  for (uint16_t q = 0; q < rings_.size(); ++q) {
    stop_ring(q);
    Ring& r = rings_[q];
    if (r.kick >= 0) ::close(r.kick);
    if (r.call >= 0) ::close(r.call);
    r = Ring{};
  }
  if (active_) device_.reset();
  active_ = false;
  needs_reset_ = false;
  features_ = 0;
}

void VhostUserBackend::disconnect() {
  reset_all();
  protocol_features_ = 0;
  memory_.reset();
  retired_.clear();
}

model::GuestMemory& VhostUserBackend::memory() { return memory_ ? memory_->guest : empty_memory_; }

virtqueue::DeviceQueue& VhostUserBackend::queue(uint16_t q) {
  return q < rings_.size() ? rings_[q].queue : unconfigured_;
}

void VhostUserBackend::used_buffers_published(uint16_t q) {
  if (q >= rings_.size()) return;
  Ring& r = rings_[q];
  if (!r.queue.should_interrupt()) return;
  if (on_interrupt) on_interrupt(q);
  if (r.call < 0) return;
  const uint64_t one = 1;
  if (::write(r.call, &one, sizeof(one)) == sizeof(one)) ++stats_.calls;
}

void VhostUserBackend::set_needs_reset() {
  // vhost-user has no DEVICE_NEEDS_RESET without the status extension: the
  // rings stop being served until the front-end restarts them.
  needs_reset_ = true;
  fail(VhostError::kRingRejected, "the device model raised DEVICE_NEEDS_RESET");
}

}  // namespace aerov::transport::vhost_user
