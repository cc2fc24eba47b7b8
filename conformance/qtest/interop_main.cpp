// aerov_qtest_interop blk|net|input|qemu-dies: our driver cores, through QtestOsServices,
// find, initialise and drive QEMU's own virtio-blk-pci, virtio-net-pci and
// virtio-keyboard-pci (disable-legacy=on: modern IDs, revision 1) in
// permissive mode - a layout that is not ours (capabilities in BAR4, notify
// multiplier 4 per queue but in its own region, MSI-X in BAR1).
// Interrupts are INTx, as Windows would connect them without MSI-X: the
// harness routes the pin like firmware, intercepts the IOAPIC's inputs and
// runs the core's interrupt() while the line is high.
//
// Exit status: 0 passed, 1 failed (the message names the device and the
// last protocol lines), 77 skipped (no qemu-system-x86_64; CTest
// SKIP_RETURN_CODE), 2 usage.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "conformance/qtest/qtest_client.hpp"
#include "conformance/qtest/qtest_os_services.hpp"
#include "drivers/windows7/common/blk_core.hpp"
#include "drivers/windows7/common/input_core.hpp"
#include "drivers/windows7/common/net_core.hpp"

namespace {

namespace qt = aerov::conformance::qtest;
namespace w7 = aerov::drivers::windows7;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSkip = 77;

constexpr uint64_t kDmaGpa = 0x0100'0000;   // 16 MiB: above anything QEMU puts in low RAM
constexpr uint32_t kDmaBytes = 4u << 20;
constexpr auto kWaitBound = std::chrono::seconds(10);

// INTx: every function's pin is routed to this ISA IRQ (route_intx) and
// the IOAPIC's inputs are intercepted, so the level arrives as IRQ lines.
constexpr uint8_t kIntxIrq = 11;

// Until `done` or kWaitBound (throws naming `what`): pull DMA memory (its
// `read` also brings any IRQ lines QEMU sent meanwhile) and, while the
// INTx line is high, run the core's interrupt service routine - no
// polling, so a device that never interrupts fails here.
void wait_for(qt::QemuProcess& qemu, qt::QtestOsServices& os, const std::function<bool()>& isr,
              const std::function<bool()>& done, const std::string& what) {
  const auto deadline = Clock::now() + kWaitBound;
  auto& q = qemu.qtest();
  while (!done()) {
    if (Clock::now() >= deadline) {
      q.fail("timed out (10 s) waiting for " + what + " (INTx IRQ " + std::to_string(kIntxIrq) +
             (q.irq_level(kIntxIrq) ? " high)" : " low)"));
    }
    os.pull();
    if (q.irq_level(kIntxIrq)) {
      os.pull_after_next_mmio_read();  // the ISR read; see QtestOsServices
      if (!isr()) q.fail("INTx high but the core's ISR found ISR 0");
    }
    os.push();  // what the ISR reposted, even if the core did not kick
    if (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void check(qt::QemuProcess& qemu, bool ok, const std::string& what) {
  if (!ok) qemu.qtest().fail("check failed: " + what);
}

// The function QEMU put at a modern `device_id`, checked to be revision 1,
// with its BARs assigned and its INTx routed and intercepted.
std::unique_ptr<qt::QtestOsServices> attach(qt::QemuProcess& qemu, uint16_t device_id) {
  auto& q = qemu.qtest();
  const qt::FoundFunction f = qt::QtestOsServices::find(q, device_id);
  check(qemu, f.revision == 1, "revision 1 with disable-legacy=on");
  auto os = std::make_unique<qt::QtestOsServices>(q, f.device, kDmaGpa, kDmaBytes);
  os->assign_resources();
  os->route_intx(kIntxIrq);
  q.irq_intercept_in("ioapic");
  return os;
}

std::string tmpdir() {
  std::string templ = (fs::temp_directory_path() / "aerov-interop-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw qt::QtestError("mkdtemp failed");
  return templ;
}

std::string log_text(const qt::QtestOsServices& os) {
  std::string out;
  for (const auto& l : os.log_lines()) out += "  core " + l + "\n";
  return out;
}

// The strict default must still refuse QEMU's layout (BAR-1/BAR-2): a core
// left at its defaults fails attach with a strict-mode capability error.
template <typename Core, typename Config, typename Error>
void expect_strict_refusal(qt::QemuProcess& qemu, qt::QtestOsServices& os, Config cfg,
                           Error transport_error) {
  Core strict;
  cfg.validation = aerov::transport::ValidationMode::kStrict;
  const Error e = strict.init(os, cfg);
  check(qemu, e == transport_error &&
                  strict.transport_error() == aerov::transport::TransportError::kCaps,
        "a strict core refuses QEMU's capabilities");
  // Which rule: the transport the cores share, attached the same way.
  aerov::transport::VirtioPciDriver driver;
  driver.attach(os, aerov::transport::ValidationMode::kStrict, 1);
  const auto cap = driver.cap_error();
  const bool strict_cap = cap == aerov::transport::CapError::kStrictLayout ||
                          cap == aerov::transport::CapError::kStrictBar ||
                          cap == aerov::transport::CapError::kStrictMultiplier;
  check(qemu, strict_cap,
        std::string("the strict default refuses QEMU's layout (cap error: ") +
            aerov::transport::to_string(cap) + ")");
  std::printf("%s: strict mode refuses it: %s\n", qemu.qtest().device().c_str(),
              aerov::transport::to_string(cap));
}

// ---- virtio-blk ------------------------------------------------------------

constexpr uint64_t kImageSectors = 2048;  // 1 MiB

uint8_t image_byte(uint64_t sector, uint32_t i) {
  return static_cast<uint8_t>(sector * 131 + i * 7 + (i >> 8));
}
uint8_t written_byte(uint64_t sector, uint32_t i) {
  return static_cast<uint8_t>(0xA5 ^ (sector * 3 + i));
}

struct BlkDone {
  int completed = 0;
  w7::BlkResult last = w7::BlkResult::kSuccess;
  int failures = 0;
};

void run_blk(const std::string& qemu_bin) {
  const std::string dir = tmpdir();
  const std::string image = dir + "/disk.img";
  {
    std::vector<uint8_t> data(kImageSectors * 512);
    for (uint64_t s = 0; s < kImageSectors; ++s) {
      for (uint32_t i = 0; i < 512; ++i) data[s * 512 + i] = image_byte(s, i);
    }
    std::ofstream(image, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                                  static_cast<std::streamsize>(data.size()));
  }
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};

  // queue-size=128: BLK-1's size, which BlkCore sizes its arrays for
  // (QEMU 7.2 defaults to 256).
  qt::QemuProcess qemu(qemu_bin,
                       {"-drive", "file=" + image + ",format=raw,if=none,id=d0,cache=writethrough",
                        "-device",
                        "virtio-blk-pci,drive=d0,disable-legacy=on,addr=4,queue-size=128"},
                       "virtio-blk-pci");
  auto& q = qemu.qtest();
  const auto attached = attach(qemu, 0x1042);
  qt::QtestOsServices& os = *attached;

  BlkDone done;
  w7::BlkCore core;
  w7::BlkRequest* pending[64] = {};
  w7::BlkCoreConfig cfg{};
  cfg.on_complete = [](void* ctx, w7::BlkRequest*, w7::BlkResult r) {
    auto* d = static_cast<BlkDone*>(ctx);
    ++d->completed;
    d->last = r;
    d->failures += r != w7::BlkResult::kSuccess;
  };
  cfg.context = &done;
  cfg.pending = pending;
  cfg.pending_capacity = 64;
  expect_strict_refusal<w7::BlkCore>(qemu, os, cfg, w7::BlkError::kTransport);
  cfg.validation = aerov::transport::ValidationMode::kPermissive;
  const w7::BlkError e = core.init(os, cfg);
  if (e != w7::BlkError::kNone) {
    q.fail(std::string("BlkCore::init: ") + w7::to_string(e) + " / " +
           aerov::transport::to_string(core.transport_error()) + " / caps: " +
           aerov::transport::to_string(core.transport().cap_error()) + "\n" + log_text(os));
  }
  check(qemu, core.capacity() == kImageSectors,
        "capacity " + std::to_string(core.capacity()) + " == 2048 sectors");

  // Read 16 sectors from 40 in two SG elements; compare with the image.
  w7::DmaRegion buf{};
  if (!os.alloc_dma(64 * 1024, 4096, &buf)) q.fail("alloc_dma for data");
  auto* data = static_cast<uint8_t*>(buf.va);
  auto run = [&](w7::BlkOp op, uint64_t sector, uint32_t count, const w7::BlkSgElement* sg,
                 uint32_t sg_count, const char* what) {
    w7::BlkRequest r{};
    r.op = op;
    r.sector = sector;
    r.sector_count = count;
    r.sg = sg;
    r.sg_count = sg_count;
    const int before = done.completed;
    const w7::BlkError s = core.submit(&r);
    if (s != w7::BlkError::kNone) q.fail(std::string(what) + ": submit: " + w7::to_string(s));
    wait_for(
        qemu, os, [&] { return core.interrupt(); }, [&] { return done.completed > before; }, what);
    if (done.last != w7::BlkResult::kSuccess) {
      q.fail(std::string(what) + ": completed with " + w7::to_string(done.last));
    }
  };
  const w7::BlkSgElement read_sg[2] = {{buf.pa, 4096}, {buf.pa + 8192, 4096}};
  run(w7::BlkOp::kRead, 40, 16, read_sg, 2, "read of sectors 40..55");
  for (uint32_t s = 0; s < 16; ++s) {
    const uint8_t* at = data + (s < 8 ? s * 512 : 8192 + (s - 8) * 512);
    for (uint32_t i = 0; i < 512; ++i) {
      if (at[i] != image_byte(40 + s, i)) {
        q.fail("read data differs from the image at sector " + std::to_string(40 + s) +
               " byte " + std::to_string(i));
      }
    }
  }
  // Write 8 sectors at 1000, flush, then check the image file itself.
  for (uint32_t s = 0; s < 8; ++s) {
    for (uint32_t i = 0; i < 512; ++i) data[16384 + s * 512 + i] = written_byte(1000 + s, i);
  }
  const w7::BlkSgElement write_sg[1] = {{buf.pa + 16384, 4096}};
  run(w7::BlkOp::kWrite, 1000, 8, write_sg, 1, "write of sectors 1000..1007");
  run(w7::BlkOp::kFlush, 0, 0, nullptr, 0, "flush");
  std::ifstream in(image, std::ios::binary);
  std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(qemu, file.size() == kImageSectors * 512, "image size unchanged");
  for (uint64_t s = 998; s < 1010; ++s) {
    const bool written = s >= 1000 && s < 1008;
    for (uint32_t i = 0; i < 512; ++i) {
      const auto got = static_cast<uint8_t>(file[s * 512 + i]);
      const uint8_t want = written ? written_byte(s, i) : image_byte(s, i);
      if (got != want) {
        q.fail("image file differs after the write at sector " + std::to_string(s) + " byte " +
               std::to_string(i));
      }
    }
  }
  // And read the written sectors back through the device.
  std::memset(data + 32768, 0, 4096);
  const w7::BlkSgElement back_sg[1] = {{buf.pa + 32768, 4096}};
  run(w7::BlkOp::kRead, 1000, 8, back_sg, 1, "read-back of sectors 1000..1007");
  check(qemu, std::memcmp(data + 32768, data + 16384, 4096) == 0, "read-back equals the write");
  // A burst: kBurst reads of 4 sectors each submitted together, completed
  // in whatever order QEMU finishes them.
  constexpr uint32_t kBurst = 48;
  w7::DmaRegion burst{};
  if (!os.alloc_dma(kBurst * 2048, 4096, &burst)) q.fail("alloc_dma for the burst");
  std::vector<w7::BlkSgElement> burst_sg(kBurst);
  std::vector<w7::BlkRequest> burst_req(kBurst);
  auto burst_sector = [](uint32_t k) { return uint64_t{(k * 37) % 990}; };  // clear of 1000..
  const int burst_before = done.completed;
  for (uint32_t k = 0; k < kBurst; ++k) {
    burst_sg[k] = w7::BlkSgElement{burst.pa + k * 2048, 2048};
    w7::BlkRequest& r = burst_req[k];
    r = w7::BlkRequest{};
    r.op = w7::BlkOp::kRead;
    r.sector = burst_sector(k);
    r.sector_count = 4;
    r.sg = &burst_sg[k];
    r.sg_count = 1;
    const w7::BlkError s = core.submit(&r);
    if (s != w7::BlkError::kNone) q.fail(std::string("burst submit: ") + w7::to_string(s));
  }
  wait_for(qemu, os, [&] { return core.interrupt(); },
           [&] { return done.completed == burst_before + static_cast<int>(kBurst); },
           "the burst of 48 reads");
  for (uint32_t k = 0; k < kBurst; ++k) {
    const auto* at = static_cast<const uint8_t*>(burst.va) + k * 2048;
    for (uint32_t i = 0; i < 2048; ++i) {
      if (at[i] != image_byte(burst_sector(k) + i / 512, i % 512)) {
        q.fail("burst read " + std::to_string(k) + " differs from the image at byte " +
               std::to_string(i));
      }
    }
  }
  check(qemu, done.failures == 0 && core.counters().resets == 0,
        "no failures, no resets (failures " + std::to_string(done.failures) + ", resets " +
            std::to_string(core.counters().resets) + ", io errors " +
            std::to_string(core.counters().io_errors) + ", bad status " +
            std::to_string(core.counters().bad_status) + ")\n" + log_text(os));
  std::printf("virtio-blk-pci: capacity %llu, 52 requests, %llu INTx interrupts, "
              "%llu pushes (%llu bytes), %llu pulls\n",
              static_cast<unsigned long long>(core.capacity()),
              static_cast<unsigned long long>(core.counters().interrupts),
              static_cast<unsigned long long>(os.pushes()),
              static_cast<unsigned long long>(os.pushed_bytes()),
              static_cast<unsigned long long>(os.pulls()));
}

// ---- virtio-net ------------------------------------------------------------

struct UdpSocket {
  int fd = -1;
  uint16_t port = 0;
  UdpSocket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw qt::QtestError("virtio-net-pci: cannot bind a UDP socket on 127.0.0.1");
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~UdpSocket() {
    if (fd >= 0) ::close(fd);
  }
};

struct NetState {
  int tx_done = 0;
  std::vector<std::vector<uint8_t>> received;
};

void run_net(const std::string& qemu_bin) {
  UdpSocket harness;
  uint16_t qemu_port = 0;
  {
    UdpSocket probe;  // a free port for QEMU's end, released just before QEMU binds it
    qemu_port = probe.port;
  }
  qt::QemuProcess qemu(
      qemu_bin,
      {"-netdev",
       "socket,id=n0,udp=127.0.0.1:" + std::to_string(harness.port) +
           ",localaddr=127.0.0.1:" + std::to_string(qemu_port),
       "-device", "virtio-net-pci,netdev=n0,disable-legacy=on,addr=4,mac=52:54:00:12:34:56"},
      "virtio-net-pci");
  auto& q = qemu.qtest();
  const auto attached = attach(qemu, 0x1041);
  qt::QtestOsServices& os = *attached;

  NetState state;
  w7::NetCore core;
  w7::NetCoreConfig cfg{};
  cfg.on_tx_done = [](void* ctx, void*, w7::NetTxResult) {
    ++static_cast<NetState*>(ctx)->tx_done;
  };
  cfg.on_receive = [](void* ctx, const uint8_t* frame, uint32_t length) {
    static_cast<NetState*>(ctx)->received.emplace_back(frame, frame + length);
  };
  cfg.context = &state;
  expect_strict_refusal<w7::NetCore>(qemu, os, cfg, w7::NetError::kTransport);
  cfg.validation = aerov::transport::ValidationMode::kPermissive;
  cfg.header = w7::NetHeaderLayout::kVirtio1;
  const w7::NetError e = core.init(os, cfg);
  if (e != w7::NetError::kNone) {
    q.fail(std::string("NetCore::init: ") + w7::to_string(e) + " / " +
           aerov::transport::to_string(core.transport_error()) + "\n" + log_text(os));
  }
  const uint8_t want_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  check(qemu, std::memcmp(core.mac(), want_mac, 6) == 0, "MAC from device config");
  check(qemu, core.link_up(), "link up");

  // TX: kFrames broadcast frames with recognisable payloads, each in two
  // fragments, all in the ring together; the backend must see each byte
  // for byte, in order.
  constexpr uint32_t kFrames = 16;
  constexpr uint32_t kSlot = 256;
  w7::DmaRegion buf{};
  if (!os.alloc_dma(kFrames * kSlot, 64, &buf)) q.fail("alloc_dma for the frames");
  std::vector<w7::NetFragment> frags(2 * kFrames);
  auto frame_len = [](uint32_t k) { return 60 + 9 * k; };
  for (uint32_t k = 0; k < kFrames; ++k) {
    auto* frame = static_cast<uint8_t*>(buf.va) + k * kSlot;
    std::memset(frame, 0xFF, 6);
    std::memcpy(frame + 6, want_mac, 6);
    frame[12] = 0x88;
    frame[13] = 0xB5;  // local experimental EtherType
    for (uint32_t i = 14; i < frame_len(k); ++i) frame[i] = static_cast<uint8_t>(i * 5 + k);
    frags[2 * k] = {buf.pa + k * kSlot, 14};
    frags[2 * k + 1] = {buf.pa + k * kSlot + 14, frame_len(k) - 14};
    const w7::NetError t = core.transmit(w7::NetTxFrame{&frags[2 * k], 2, nullptr});
    if (t != w7::NetError::kNone) q.fail(std::string("transmit: ") + w7::to_string(t));
  }
  wait_for(qemu, os, [&] { return core.interrupt(); }, [&] { return state.tx_done == kFrames; },
           "TX completions");
  std::vector<uint8_t> got(2048);
  for (uint32_t k = 0; k < kFrames; ++k) {
    pollfd p{harness.fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) {
      q.fail("TX frame " + std::to_string(k) + " did not reach the UDP backend within 5 s");
    }
    const ssize_t n = ::recv(harness.fd, got.data(), got.size(), 0);
    const auto* frame = static_cast<const uint8_t*>(buf.va) + k * kSlot;
    check(qemu,
          n == static_cast<ssize_t>(frame_len(k)) &&
              std::memcmp(got.data(), frame, frame_len(k)) == 0,
          "the UDP backend got TX frame " + std::to_string(k) + " byte for byte (" +
              std::to_string(n) + " bytes)");
  }

  // RX: kFrames frames to our MAC from the backend, handed up in order.
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(qemu_port);
  std::vector<std::vector<uint8_t>> sent;
  for (uint32_t k = 0; k < kFrames; ++k) {
    std::vector<uint8_t> rx(60 + 61 * k);
    std::memcpy(rx.data(), want_mac, 6);
    const uint8_t peer[6] = {0x02, 0, 0, 0, 0, 0x77};
    std::memcpy(rx.data() + 6, peer, 6);
    rx[12] = 0x88;
    rx[13] = 0xB5;
    for (size_t i = 14; i < rx.size(); ++i) rx[i] = static_cast<uint8_t>(0xC0 ^ i ^ k);
    if (::sendto(harness.fd, rx.data(), rx.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) != static_cast<ssize_t>(rx.size())) {
      q.fail("sendto QEMU's UDP port failed");
    }
    sent.push_back(std::move(rx));
  }
  wait_for(qemu, os, [&] { return core.interrupt(); },
           [&] { return state.received.size() >= kFrames; },
           "the frames sent to the backend to reach the RX callback (" +
               std::to_string(state.received.size()) + " of " + std::to_string(kFrames) +
               " so far, " + std::to_string(core.counters().rx_runt) + " runts)\n" +
               log_text(os));
  check(qemu, state.received.size() == kFrames, "exactly the frames sent were received");
  for (uint32_t k = 0; k < kFrames; ++k) {
    check(qemu, state.received[k] == sent[k],
          "RX frame " + std::to_string(k) + " equals the one sent (" +
              std::to_string(state.received[k].size()) + " bytes)");
  }
  check(qemu, core.counters().resets == 0 && core.counters().rx_runt == 0, "no resets, no runts");
  std::printf("virtio-net-pci: %u TX frames and %u RX frames through the UDP backend; "
              "%llu INTx interrupts, %llu pushes, %llu pulls\n",
              kFrames, kFrames, static_cast<unsigned long long>(core.counters().interrupts),
              static_cast<unsigned long long>(os.pushes()),
              static_cast<unsigned long long>(os.pulls()));
}

// ---- virtio-keyboard -----------------------------------------------------------

struct InputState {
  std::vector<std::vector<uint8_t>> reports;
};

void run_input(const std::string& qemu_bin) {
  qt::QemuProcess qemu(qemu_bin,
                       {"-device", "virtio-keyboard-pci,disable-legacy=on,addr=4,id=kbd0"},
                       "virtio-keyboard-pci");
  auto& q = qemu.qtest();
  const auto attached = attach(qemu, 0x1052);
  qt::QtestOsServices& os = *attached;

  InputState state;
  w7::InputCore core;
  w7::InputCoreConfig cfg{};
  cfg.on_report = [](void* ctx, const uint8_t* report, uint32_t length) {
    static_cast<InputState*>(ctx)->reports.emplace_back(report, report + length);
  };
  cfg.context = &state;
  expect_strict_refusal<w7::InputCore>(qemu, os, cfg, w7::InputError::kTransport);
  cfg.validation = aerov::transport::ValidationMode::kPermissive;
  const w7::InputError e = core.init(os, cfg);
  if (e != w7::InputError::kNone) {
    q.fail(std::string("InputCore::init: ") + w7::to_string(e) + "\n" + log_text(os));
  }
  os.push();
  // Key 'a' down and up (Linux KEY_A, HID usage 0x04) through QMP; QEMU's
  // virtio-keyboard turns each into EV_KEY + EV_SYN on the eventq.
  auto key = [&](bool down) {
    qemu.qmp().execute(std::string(R"({"execute": "input-send-event", "arguments": {"events": [)"
                                   R"({"type": "key", "data": {"down": )") +
                       (down ? "true" : "false") +
                       R"(, "key": {"type": "qcode", "data": "a"}}}]}})");
  };
  key(true);
  wait_for(qemu, os, [&] { return core.interrupt(); }, [&] { return state.reports.size() >= 1; },
           "the key-down report");
  key(false);
  wait_for(qemu, os, [&] { return core.interrupt(); }, [&] { return state.reports.size() >= 2; },
           "the key-up report");
  const std::vector<uint8_t> down = {0, 0, 0x04, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> up(8, 0);
  check(qemu, state.reports[0] == down, "key-down report is usage 0x04 ('a')");
  check(qemu, state.reports[1] == up, "key-up report is empty");
  std::printf("virtio-keyboard-pci: 2 reports for 'a' down/up; %llu events, %llu INTx "
              "interrupts, %llu pulls\n",
              static_cast<unsigned long long>(core.counters().events),
              static_cast<unsigned long long>(core.counters().interrupts),
              static_cast<unsigned long long>(os.pulls()));
}

// ---- the harness's own failure path ---------------------------------------------

// QEMU killed under a running core must give an error that names the
// device and shows the last protocol lines, at once - not a hang and not
// a pass.
void run_dies(const std::string& qemu_bin) {
  qt::QemuProcess qemu(qemu_bin, {"-device", "virtio-keyboard-pci,disable-legacy=on,addr=4"},
                       "virtio-keyboard-pci");
  auto& q = qemu.qtest();
  const qt::FoundFunction f = qt::QtestOsServices::find(q, 0x1052);
  qt::QtestOsServices os(q, f.device, kDmaGpa, kDmaBytes);
  os.assign_resources();
  w7::InputCore core;
  w7::InputCoreConfig cfg{};
  cfg.on_report = [](void*, const uint8_t*, uint32_t) {};
  cfg.validation = aerov::transport::ValidationMode::kPermissive;
  if (core.init(os, cfg) != w7::InputError::kNone) q.fail("InputCore::init\n" + log_text(os));
  qemu.kill_now();
  const auto start = Clock::now();
  std::string error;
  try {
    os.pull();
    core.interrupt();
  } catch (const qt::QtestError& e) {
    error = e.what();
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  const bool names_cause = error.find("closed the socket") != std::string::npos ||
                           error.find("socket write failed") != std::string::npos;
  if (error.rfind("virtio-keyboard-pci: ", 0) != 0 || !names_cause ||
      error.find("last qtest lines") == std::string::npos || ms > 5000) {
    throw qt::QtestError("virtio-keyboard-pci: killing QEMU gave no clear error within 5 s (" +
                         std::to_string(ms) + " ms): '" + error + "'");
  }
  std::printf("QEMU killed under a running core: after %lld ms: %s\n", static_cast<long long>(ms),
              error.substr(0, error.find('\n')).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s blk|net|input|qemu-dies\n", argv[0]);
    return kExitUsage;
  }
  const std::string which = argv[1];
  void (*run)(const std::string&) = nullptr;
  if (which == "blk") run = run_blk;
  if (which == "net") run = run_net;
  if (which == "input") run = run_input;
  if (which == "qemu-dies") run = run_dies;
  if (run == nullptr) {
    std::fprintf(stderr, "usage: %s blk|net|input|qemu-dies\n", argv[0]);
    return kExitUsage;
  }
  const std::string qemu = qt::QemuProcess::find_binary();
  if (qemu.empty()) {
    std::printf("SKIP: qemu-system-x86_64 not found in PATH (Debian package qemu-system-x86; "
                "scripts/install-deps.sh installs it)\n");
    return kExitSkip;
  }
  const auto start = Clock::now();
  try {
    run(qemu);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL %s\n", e.what());
    return kExitFail;
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  std::printf("PASS %s against %s (%lld ms)\n", which.c_str(), qemu.c_str(),
              static_cast<long long>(ms));
  return kExitPass;
}
