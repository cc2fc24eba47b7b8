// vhost-user back-end: message parser and state machine, driven without
// QEMU. Guest RAM is a memfd that the test maps too, as QEMU would; a
// RingBuilder plays the guest driver through the test's own mapping.
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <thread>

#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "model/devices/blk/blk_wire.hpp"
#include "transport/vhost_user/vhost_user_backend.hpp"
#include "transport/vhost_user/vhost_user_server.hpp"
#include "virtqueue/testing/ring_builder.hpp"

using namespace aerov;
using namespace aerov::transport::vhost_user;

namespace {

constexpr uint64_t kRamBytes = 4 << 20;
constexpr uint64_t kGpa = 0x100000;          // guest-physical base of the region
constexpr uint64_t kUserAddr = 0x7f0000000000;  // where "QEMU" has it mapped

template <typename T>
Message msg(Request r, const T& payload, std::vector<int> fds = {}, uint32_t flags = kVersion) {
  Message m;
  m.request = static_cast<uint32_t>(r);
  m.flags = flags;
  m.payload.resize(sizeof(T));
  std::memcpy(m.payload.data(), &payload, sizeof(T));
  m.fds = std::move(fds);
  return m;
}

Message bare(Request r, uint32_t flags = kVersion) {
  Message m;
  m.request = static_cast<uint32_t>(r);
  m.flags = flags;
  return m;
}

uint64_t reply_u64(const std::optional<Reply>& r) {
  REQUIRE(r.has_value());
  REQUIRE(r->payload.size() == 8);
  uint64_t v;
  std::memcpy(&v, r->payload.data(), 8);
  return v;
}

struct Fixture {
  model::backends::RamDisk disk{2048};
  model::devices::BlkDevice device{disk};
  VhostUserBackend backend{device};
  int memfd = -1;
  uint8_t* host = nullptr;
  model::GuestMemory guest_view;  // the test's own view of the same RAM

  Fixture() {
    memfd = ::memfd_create("vhost-user-test", MFD_CLOEXEC);
    REQUIRE(memfd >= 0);
    REQUIRE(::ftruncate(memfd, kRamBytes) == 0);
    host = static_cast<uint8_t*>(::mmap(nullptr, kRamBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0));
    REQUIRE(host != MAP_FAILED);
    REQUIRE(guest_view.add_external(kGpa, kRamBytes, host) == model::MemError::kOk);
  }
  ~Fixture() {
    ::munmap(host, kRamBytes);
    ::close(memfd);
  }

  Message mem_table(uint32_t nregions, uint64_t size = kRamBytes) {
    Message m;
    m.request = static_cast<uint32_t>(Request::kSetMemTable);
    MemTableHeader h{nregions, 0};
    MemRegion r{kGpa, size, kUserAddr, 0};
    m.payload.resize(sizeof(h) + sizeof(r));
    std::memcpy(m.payload.data(), &h, sizeof(h));
    std::memcpy(m.payload.data() + sizeof(h), &r, sizeof(r));
    m.fds.push_back(::dup(memfd));
    return m;
  }

  uint64_t ua(uint64_t gpa) const { return gpa - kGpa + kUserAddr; }

  // The front-end's start sequence for ring 0.
  VhostError start_ring(virtqueue::testing::RingBuilder& ring, int kick, int call) {
    Message f = msg(Request::kSetFeatures, device.device_features() | kFeatureProtocolFeatures);
    backend.handle(f);
    Message t = mem_table(1);
    backend.handle(t);
    Message n = msg(Request::kSetVringNum, VringState{0, ring.size()});
    backend.handle(n);
    Message b = msg(Request::kSetVringBase, VringState{0, 0});
    backend.handle(b);
    Message a = msg(Request::kSetVringAddr,
                    VringAddr{0, 0, ua(ring.desc_addr()), ua(ring.used_addr()), ua(ring.avail_addr()), 0});
    backend.handle(a);
    Message c = msg(Request::kSetVringCall, uint64_t{0}, {::dup(call)});
    backend.handle(c);
    Message k = msg(Request::kSetVringKick, uint64_t{0}, {::dup(kick)});
    backend.handle(k);
    return backend.last_error_code();
  }
};

}  // namespace

TEST_CASE("vhost-user: GET_FEATURES offers the device's features and the protocol extension", "[vhost-user]") {
  Fixture fx;
  Message m = bare(Request::kGetFeatures);
  const uint64_t f = reply_u64(fx.backend.handle(m));
  CHECK(f == (fx.device.device_features() | kFeatureProtocolFeatures));
  Message p = bare(Request::kGetProtocolFeatures);
  const uint64_t pf = reply_u64(fx.backend.handle(p));
  CHECK((pf & kProtocolConfig) != 0);
  CHECK((pf & kProtocolReplyAck) != 0);
}

TEST_CASE("vhost-user: headers with a bad version or an oversized payload are refused", "[vhost-user]") {
  CHECK(check_header(MsgHeader{1, kVersion, 8}) == VhostError::kNone);
  CHECK(check_header(MsgHeader{1, 0, 8}) == VhostError::kBadVersion);
  CHECK(check_header(MsgHeader{1, 2, 8}) == VhostError::kBadVersion);
  CHECK(check_header(MsgHeader{1, kVersion, kMaxPayloadBytes + 1}) == VhostError::kPayloadTooLarge);
  CHECK(check_header(MsgHeader{1, kVersion, 0xffffffff}) == VhostError::kPayloadTooLarge);
}

TEST_CASE("vhost-user: malformed payloads get typed errors, and REPLY_ACK reports them", "[vhost-user]") {
  Fixture fx;
  Message short_features = bare(Request::kSetFeatures);
  short_features.payload = {1, 2, 3};
  fx.backend.handle(short_features);
  CHECK(fx.backend.last_error_code() == VhostError::kBadPayloadSize);
  CHECK(fx.backend.last_error().find("SET_FEATURES") != std::string::npos);

  Message ring = msg(Request::kSetVringNum, VringState{7, 64});
  fx.backend.handle(ring);
  CHECK(fx.backend.last_error_code() == VhostError::kBadRingIndex);

  Message size = msg(Request::kSetVringNum, VringState{0, 100});
  fx.backend.handle(size);
  CHECK(fx.backend.last_error_code() == VhostError::kBadRingSize);

  Message unknown = bare(static_cast<Request>(999));
  fx.backend.handle(unknown);
  CHECK(fx.backend.last_error_code() == VhostError::kUnknownRequest);

  Message pf = msg(Request::kSetProtocolFeatures, kProtocolReplyAck);
  fx.backend.handle(pf);
  Message bad_ack = msg(Request::kSetVringNum, VringState{9, 64}, {}, kVersion | kFlagNeedReply);
  CHECK(reply_u64(fx.backend.handle(bad_ack)) != 0);
  Message good_ack = msg(Request::kSetVringNum, VringState{0, 64}, {}, kVersion | kFlagNeedReply);
  CHECK(reply_u64(fx.backend.handle(good_ack)) == 0);

  // Descriptors on a request that carries none are refused (and closed).
  Message stray = bare(Request::kSetOwner);
  stray.fds.push_back(::dup(fx.memfd));
  fx.backend.handle(stray);
  CHECK(fx.backend.last_error_code() == VhostError::kFdCountMismatch);
  CHECK(stray.fds.empty());
}

TEST_CASE("vhost-user: bad memory tables are refused without mapping anything", "[vhost-user]") {
  Fixture fx;
  SECTION("no regions") {
    Message m = fx.mem_table(1);
    MemTableHeader h{0, 0};
    std::memcpy(m.payload.data(), &h, sizeof(h));
    fx.backend.handle(m);
    CHECK(fx.backend.last_error_code() == VhostError::kTooManyRegions);
  }
  SECTION("more regions than the limit") {
    Message m = fx.mem_table(1);
    MemTableHeader h{kMaxRegions + 1, 0};
    std::memcpy(m.payload.data(), &h, sizeof(h));
    fx.backend.handle(m);
    CHECK(fx.backend.last_error_code() == VhostError::kTooManyRegions);
  }
  SECTION("a descriptor short") {
    Message m = fx.mem_table(1);
    ::close(m.fds.back());
    m.fds.pop_back();
    fx.backend.handle(m);
    CHECK(fx.backend.last_error_code() == VhostError::kFdCountMismatch);
  }
  SECTION("zero-sized region") {
    Message m = fx.mem_table(1, 0);
    fx.backend.handle(m);
    CHECK(fx.backend.last_error_code() == VhostError::kBadRegion);
  }
  SECTION("wrapping offsets") {
    Message m = fx.mem_table(1);
    MemRegion r{kGpa, kRamBytes, kUserAddr, ~0ull - 10};
    std::memcpy(m.payload.data() + sizeof(MemTableHeader), &r, sizeof(r));
    fx.backend.handle(m);
    CHECK(fx.backend.last_error_code() == VhostError::kBadRegion);
  }
  SECTION("a region larger than its file (would fault on first touch)") {
    Message m = fx.mem_table(1, kRamBytes + 4096);
    fx.backend.handle(m);
    CHECK(fx.backend.last_error_code() == VhostError::kBadRegion);
    CHECK(fx.backend.last_error().find("past the end") != std::string::npos);
  }
  SECTION("payload shorter than the regions it announces") {
    Message m = fx.mem_table(1);
    m.payload.resize(m.payload.size() - 1);
    fx.backend.handle(m);
    CHECK(fx.backend.last_error_code() == VhostError::kBadPayloadSize);
  }
  CHECK_FALSE(fx.backend.has_memory());
}

TEST_CASE("vhost-user: a ring outside the memory table is refused and config reads are bounded", "[vhost-user]") {
  Fixture fx;
  Message t = fx.mem_table(1);
  fx.backend.handle(t);
  REQUIRE(fx.backend.last_error_code() == VhostError::kNone);
  Message n = msg(Request::kSetVringNum, VringState{0, 64});
  fx.backend.handle(n);
  Message a = msg(Request::kSetVringAddr, VringAddr{0, 0, 0x1000, 0x2000, 0x3000, 0});  // not in any region
  fx.backend.handle(a);
  const int kick = ::eventfd(0, EFD_CLOEXEC);
  Message k = msg(Request::kSetVringKick, uint64_t{0}, {kick});
  fx.backend.handle(k);
  CHECK(fx.backend.last_error_code() == VhostError::kAddressNotMapped);
  CHECK_FALSE(fx.backend.ring_started(0));

  Message cfg = bare(Request::kGetConfig);
  ConfigHeader h{250, 16, 0};
  cfg.payload.resize(sizeof(h) + 16);
  std::memcpy(cfg.payload.data(), &h, sizeof(h));
  CHECK_FALSE(fx.backend.handle(cfg).has_value());
  CHECK(fx.backend.last_error_code() == VhostError::kBadConfigRange);

  h = ConfigHeader{0, 8, 0};
  cfg.payload.assign(sizeof(h) + 8, 0);
  std::memcpy(cfg.payload.data(), &h, sizeof(h));
  const auto reply = fx.backend.handle(cfg);
  REQUIRE(reply.has_value());
  uint64_t capacity;
  std::memcpy(&capacity, reply->payload.data() + sizeof(h), 8);
  CHECK(capacity == 2048);  // virtio_blk_config.capacity in sectors
}

TEST_CASE("vhost-user: a started ring serves blk requests and signals the call eventfd", "[vhost-user]") {
  Fixture fx;
  virtqueue::testing::RingBuilder ring(fx.guest_view, 64, kGpa, false, 64 << 10);
  const int kick = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const int call = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  REQUIRE(fx.start_ring(ring, kick, call) == VhostError::kNone);
  REQUIRE(fx.backend.ring_started(0));
  REQUIRE(fx.backend.active());

  // One OUT request: header, 512 bytes of data, status.
  const uint64_t hdr = ring.alloc(16), data = ring.alloc(512), status = ring.alloc(1);
  model::devices::blk::RequestHeader rh{model::devices::blk::kTypeOut, 0, 3};
  REQUIRE(fx.guest_view.write_obj(hdr, rh) == model::MemError::kOk);
  std::vector<uint8_t> pattern(512, 0x5a);
  REQUIRE(fx.guest_view.write(data, pattern.data(), pattern.size()) == model::MemError::kOk);
  ring.set_desc(0, hdr, 16, virtqueue::kDescFNext, 1);
  ring.set_desc(1, data, 512, virtqueue::kDescFNext, 2);
  ring.set_desc(2, status, 1, virtqueue::kDescFWrite);
  ring.make_available(0);
  fx.backend.kick(0);

  CHECK(ring.used_idx() == 1);
  uint8_t st = 0xff;
  REQUIRE(fx.guest_view.read_obj(status, &st) == model::MemError::kOk);
  CHECK(st == model::devices::blk::kStatusOk);
  uint64_t signalled = 0;
  CHECK(::read(call, &signalled, 8) == 8);
  CHECK(signalled == 1);

  // GET_VRING_BASE stops the ring and reports where it stopped.
  Message g = msg(Request::kGetVringBase, VringState{0, 0});
  const auto r = fx.backend.handle(g);
  REQUIRE(r.has_value());
  VringState s{};
  std::memcpy(&s, r->payload.data(), sizeof(s));
  CHECK(s.index == 0);
  CHECK(s.num == 1);
  CHECK_FALSE(fx.backend.ring_started(0));
  CHECK_FALSE(fx.backend.active());
  ::close(kick);
  ::close(call);
}

TEST_CASE("vhost-user: a restarted ring resumes at SET_VRING_BASE", "[vhost-user]") {
  Fixture fx;
  virtqueue::testing::RingBuilder ring(fx.guest_view, 64, kGpa, false, 64 << 10);
  const int kick = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const int call = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // The driver had already made 5 requests available and the used index
  // stood at 5 when the ring was handed over.
  ring.set_avail_idx(5);
  Message b = msg(Request::kSetVringBase, VringState{0, 5});
  fx.backend.handle(b);
  REQUIRE(fx.start_ring(ring, kick, call) == VhostError::kNone);
  // start_ring sent base 0 last; hand over again at 5 as a front-end would.
  Message g = msg(Request::kGetVringBase, VringState{0, 0});
  fx.backend.handle(g);
  Message b5 = msg(Request::kSetVringBase, VringState{0, 5});
  fx.backend.handle(b5);
  Message k = msg(Request::kSetVringKick, uint64_t{0}, {::dup(kick)});
  fx.backend.handle(k);
  REQUIRE(fx.backend.ring_started(0));
  CHECK(fx.backend.queue(0).next_avail() == 5);
  CHECK(fx.backend.queue(0).num_available() == 0);
  ::close(kick);
  ::close(call);
}

// ---- the socket side --------------------------------------------------------

namespace {

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  for (int i = 0; i < 200; ++i) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
    ::usleep(5000);
  }
  ::close(fd);
  return -1;
}

bool send_header(int fd, MsgHeader h, const void* payload = nullptr) {
  std::vector<uint8_t> out(reinterpret_cast<const uint8_t*>(&h), reinterpret_cast<const uint8_t*>(&h + 1));
  if (payload != nullptr) {
    const auto* p = static_cast<const uint8_t*>(payload);
    out.insert(out.end(), p, p + h.size);
  }
  return ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
}

}  // namespace

TEST_CASE("vhost-user server: replies over the socket and ends the connection on a framing error", "[vhost-user]") {
  model::backends::RamDisk disk{64};
  model::devices::BlkDevice device{disk};
  VhostUserBackend backend{device};
  VhostUserServer server{backend};
  const std::string path = "/tmp/aerov-vhost-user-test-" + std::to_string(::getpid()) + ".sock";
  REQUIRE(server.listen(path).empty());

  uint64_t features = 0;
  bool got_reply = false;
  std::thread client([&] {
    const int fd = connect_to(path);
    if (fd < 0) return;
    if (send_header(fd, MsgHeader{static_cast<uint32_t>(Request::kGetFeatures), kVersion, 0})) {
      uint8_t buf[sizeof(MsgHeader) + 8];
      size_t got = 0;
      while (got < sizeof(buf)) {
        const ssize_t n = ::recv(fd, buf + got, sizeof(buf) - got, 0);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      MsgHeader h{};
      std::memcpy(&h, buf, sizeof(h));
      got_reply = got == sizeof(buf) && (h.flags & kFlagReply) != 0 && h.size == 8;
      std::memcpy(&features, buf + sizeof(h), 8);
    }
    // A payload far beyond the limit: the server must hang up, not read it.
    send_header(fd, MsgHeader{static_cast<uint32_t>(Request::kSetMemTable), kVersion, 1u << 30});
    uint8_t byte;
    while (::recv(fd, &byte, 1, 0) > 0) {
    }
    ::close(fd);
  });
  ServeOptions options;
  options.once = true;
  options.poll_interval_ms = 10;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const std::string error = server.run(options, [&] { return std::chrono::steady_clock::now() > deadline; });
  client.join();
  CHECK(got_reply);
  CHECK(features == (device.device_features() | kFeatureProtocolFeatures));
  CHECK(error.find("payload too large") != std::string::npos);
}
