// libFuzzer target for the vhost-user back-end (transport/vhost_user): a
// hostile front-end sends any sequence of messages (any request number,
// flags, payload and number of descriptors) and writes anything into the
// shared guest RAM, while the back-end serves a virtio-blk device on it.
//
// Input: a sequence of ops, each an op byte followed by fixed-width
// little-endian fields read front to back (missing bytes read as 0), so
// fuzz/make_vhost_user_corpus.py can encode seeds by hand:
//   0 MSG     request u8, flags u8, nfds u8, size u16, size bytes
//             (nfds % 9 descriptors: copies of the RAM memfd for
//             SET_MEM_TABLE, fresh eventfds otherwise)
//   1 POKE    offset u32, n u16, n bytes   (the guest writes its RAM)
//   2 KICK    ring u8                      (the ring's kick eventfd fired)
//   3 POLL                                 (a host event: serve every ring)
//   4 HANGUP                               (the front-end disconnects)
// A header the server would refuse (check_header) ends the script, as the
// server ends the connection.
//
// Checked after every message: an error leaves a typed code and a message;
// a reply is never larger than the protocol's payload cap; a ring the
// back-end reports started has a kick descriptor in kick_fds().
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "fuzz/fuzz_ops.hpp"
#include "model/backends/disk/ram_disk.hpp"
#include "model/devices/blk/blk_device.hpp"
#include "transport/vhost_user/vhost_user_backend.hpp"

namespace {

namespace vu = aerov::transport::vhost_user;
using aerov::fuzz::Reader;

constexpr uint64_t kRamBytes = 1ull << 20;  // the memfd every memory table maps
constexpr int kMaxOps = 256;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int memfd = ::memfd_create("vhost-user-fuzz", MFD_CLOEXEC);
  if (memfd < 0 || ::ftruncate(memfd, kRamBytes) != 0) std::abort();
  auto* ram = static_cast<uint8_t*>(::mmap(nullptr, kRamBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0));
  if (ram == MAP_FAILED) std::abort();
  {
    aerov::model::backends::RamDisk disk(64);
    aerov::model::devices::BlkDevice device(disk);
    vu::VhostUserBackend backend(device);

    Reader in(data, size);
    bool connected = true;
    for (int op_count = 0; connected && op_count < kMaxOps && !in.done(); ++op_count) {
      switch (in.u8() % 5) {
        case 0: {
          vu::Message m;
          m.request = in.u8();
          m.flags = vu::kVersion | (in.u8() & (vu::kFlagNeedReply | vu::kFlagReply));
          const unsigned nfds = in.u8() % 9;
          const uint16_t n = in.u16() % 600;
          m.payload.resize(n);
          for (auto& b : m.payload) b = in.u8();
          if (vu::check_header(vu::MsgHeader{m.request, m.flags, n}) != vu::VhostError::kNone) {
            aerov::fuzz::trace("header refused: end of connection");
            connected = false;
            break;
          }
          for (unsigned i = 0; i < nfds; ++i) {
            m.fds.push_back(m.request == static_cast<uint32_t>(vu::Request::kSetMemTable)
                                ? ::dup(memfd)
                                : ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
          }
          const auto reply = backend.handle(m);
          aerov::fuzz::trace("msg %s (%u) -> %s", std::string(vu::request_name(m.request)).c_str(), m.request,
                             std::string(vu::to_string(backend.last_error_code())).c_str());
          if (reply) FUZZ_CHECK(reply->payload.size() <= vu::kMaxPayloadBytes);
          if (backend.last_error_code() != vu::VhostError::kNone) {
            FUZZ_CHECK(!backend.last_error().empty());
          }
          break;
        }
        case 1: {
          const uint32_t offset = in.u32() % kRamBytes;
          const uint16_t n = in.u16();
          for (uint32_t i = 0; i < n; ++i) {
            const uint8_t b = in.u8();
            if (offset + i < kRamBytes) ram[offset + i] = b;
          }
          break;
        }
        case 2:
          backend.kick(in.u8());
          break;
        case 3:
          backend.poll_all();
          break;
        default:
          backend.disconnect();
          break;
      }
      for (const auto& k : backend.kick_fds()) {
        FUZZ_CHECK(backend.ring_started(k.ring));
        FUZZ_CHECK(k.fd >= 0);
      }
    }
    // For the seed check (AEROV_FUZZ_TRACE=1): how far the script got.
    const auto& st = device.stats();
    aerov::fuzz::trace("outcome: %llu requests served, %llu messages refused",
                       static_cast<unsigned long long>(st.ok + st.ioerr + st.unsupp),
                       static_cast<unsigned long long>(backend.stats().errors));
  }
  ::munmap(ram, kRamBytes);
  ::close(memfd);
  return 0;
}
