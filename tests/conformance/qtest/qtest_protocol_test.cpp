// The qtest client without QEMU: reply parsing, the line channel's
// timeouts and end of stream, and the client against a scripted peer on a
// socketpair (IRQ lines before a reply, FAIL, malformed replies, a peer
// that goes away), plus a "QEMU" that exits before connecting.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "conformance/qtest/qtest_client.hpp"
#include "conformance/qtest/qtest_os_services.hpp"
#include "conformance/qtest/qtest_protocol.hpp"

namespace qt = aerov::conformance::qtest;
using std::chrono::milliseconds;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const qt::QtestError& e) {
    return e.what();
  }
  return "(no error)";
}

// A peer that answers each request line with the next scripted reply
// (which may hold several lines); an empty script entry closes the socket.
struct ScriptedPeer {
  int client_fd = -1;
  std::thread thread;
  std::vector<std::string> requests;  // read only after the client is gone

  explicit ScriptedPeer(std::vector<std::string> replies) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    client_fd = fds[0];
    const int peer = fds[1];
    thread = std::thread([this, peer, replies = std::move(replies)] {
      qt::LineChannel ch(peer);
      for (const auto& r : replies) {
        try {
          requests.push_back(ch.read_line(milliseconds{2000}));
        } catch (const qt::QtestError&) {
          return;
        }
        if (r.empty()) return;  // closes the socket
        const std::string body = r.substr(0, r.size() - (r.back() == '\n' ? 1 : 0));
        ch.write_line(body);
      }
      // Keep the socket open until the client is done.
      try {
        ch.read_line(milliseconds{2000});
      } catch (const qt::QtestError&) {
      }
    });
  }
  ~ScriptedPeer() { thread.join(); }
};

}  // namespace

TEST_CASE("qtest lines are classified", "[qtest]") {
  CHECK(qt::classify_line("OK") == qt::LineKind::kOk);
  CHECK(qt::classify_line("OK 0x0001") == qt::LineKind::kOk);
  CHECK(qt::classify_line("FAIL Unknown command 'x'") == qt::LineKind::kFail);
  CHECK(qt::classify_line("IRQ raise 11") == qt::LineKind::kIrq);
  CHECK(qt::classify_line("OKAY") == qt::LineKind::kMalformed);
  CHECK(qt::classify_line("") == qt::LineKind::kMalformed);
  CHECK(qt::classify_line("[S +0.1] OK") == qt::LineKind::kMalformed);
}

TEST_CASE("qtest values parse as QEMU prints them", "[qtest]") {
  CHECK(qt::parse_ok_value("OK 0x0000000000000003") == 3);
  CHECK(qt::parse_ok_value("OK 0x1af4") == 0x1AF4);
  CHECK(qt::parse_ok_value("OK 0xffffffffffffffff") == ~uint64_t{0});
  CHECK(qt::parse_ok_value("OK 1000000") == 1000000);  // clock_step: decimal ns
  CHECK_THROWS_AS(qt::parse_ok_value("OK"), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_ok_value("OK 0x"), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_ok_value("OK 0x12zz"), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_ok_value("OK 0x1ffffffffffffffff"), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_ok_value("FAIL 0x1"), qt::QtestError);
  CHECK_NOTHROW(qt::expect_ok("OK"));
  CHECK_THROWS_AS(qt::expect_ok("OK 0x1"), qt::QtestError);
}

TEST_CASE("qtest IRQ lines parse and malformed ones are errors", "[qtest]") {
  const qt::IrqEvent up = qt::parse_irq("IRQ raise 11");
  CHECK(up.raised);
  CHECK(up.line == 11);
  const qt::IrqEvent down = qt::parse_irq("IRQ lower 4");
  CHECK_FALSE(down.raised);
  CHECK(down.line == 4);
  CHECK_THROWS_AS(qt::parse_irq("IRQ up 3"), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_irq("IRQ raise"), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_irq("IRQ raise x1"), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_irq("IRQ raise 99999"), qt::QtestError);
}

TEST_CASE("qtest memory payloads round-trip as hex", "[qtest]") {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0xAB, 0xFF};
  const std::string hex = qt::encode_hex(bytes.data(), bytes.size());
  CHECK(hex == "0x0001abff");
  CHECK(qt::parse_ok_data("OK " + hex, 4) == bytes);
  CHECK(qt::parse_ok_data("OK 0x0001ABFF", 4) == bytes);
  const std::string short_reply = error_of([] { qt::parse_ok_data("OK 0x0001", 4); });
  CHECK(contains(short_reply, "data length"));
  CHECK_THROWS_AS(qt::parse_ok_data("OK 0x00g1", 2), qt::QtestError);
  CHECK_THROWS_AS(qt::parse_ok_data("OK 0001", 2), qt::QtestError);
}

TEST_CASE("the transcript keeps the last lines cut short", "[qtest]") {
  qt::Transcript t(3);
  CHECK(contains(t.tail(), "nothing exchanged"));
  t.sent("outl 0xcf8 0x80000000");
  t.received("OK");
  t.sent("inl 0xcfc");
  t.received("OK 0x12378086");
  const std::string tail = t.tail();
  CHECK_FALSE(contains(tail, "outl"));
  CHECK(contains(tail, "< OK\n"));
  CHECK(contains(tail, "> inl 0xcfc"));
  CHECK(contains(tail, "< OK 0x12378086"));
  t.received(std::string(1000, 'a'));
  CHECK(contains(t.tail(), "(1000 chars)"));
}

TEST_CASE("the line channel times out and sees the peer close", "[qtest]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  qt::LineChannel ch(fds[0]);
  // Two lines in pieces, one partial.
  REQUIRE(::write(fds[1], "OK 0x1\nOK", 9) == 9);
  CHECK(ch.read_line(milliseconds{1000}) == "OK 0x1");
  const auto start = std::chrono::steady_clock::now();
  const std::string timeout = error_of([&] { ch.read_line(milliseconds{100}); });
  CHECK(contains(timeout, "no reply within 100 ms"));
  CHECK(std::chrono::steady_clock::now() - start < milliseconds{2000});
  REQUIRE(::write(fds[1], " 0x2\r\n", 6) == 6);
  CHECK(ch.read_line(milliseconds{1000}) == "OK 0x2");
  ::close(fds[1]);
  const std::string closed = error_of([&] { ch.read_line(milliseconds{1000}); });
  CHECK(contains(closed, "closed the socket"));
  // Writing to a closed peer is an error, not SIGPIPE.
  CHECK_THROWS_AS(ch.write_line("inb 0x80"), qt::QtestError);
}

TEST_CASE("the client records IRQ lines that arrive before a reply", "[qtest]") {
  ScriptedPeer peer({"IRQ raise 11\nIRQ lower 4\nOK 0x0001\n", "IRQ lower 11\nOK\n"});
  qt::QtestClient c(qt::LineChannel(peer.client_fd), "virtio-test-pci");
  CHECK(c.inb(0xCFC) == 1);
  CHECK(c.irq_level(11));
  CHECK_FALSE(c.irq_level(4));
  c.outb(0x80, 0);
  CHECK_FALSE(c.irq_level(11));
  REQUIRE(c.irq_events().size() == 3);
  CHECK(c.irq_events()[0].raised);
  c.set_timeout(milliseconds{200});
  CHECK_THROWS_AS(c.inb(0x80), qt::QtestError);  // the peer stops answering
}

TEST_CASE("client errors name the device and the last lines", "[qtest]") {
  SECTION("FAIL") {
    ScriptedPeer peer({"FAIL Unknown command 'frob'\n"});
    qt::QtestClient c(qt::LineChannel(peer.client_fd), "virtio-blk-pci");
    const std::string e = error_of([&] { c.command("frob"); });
    CHECK(contains(e, "virtio-blk-pci: QEMU refused 'frob'"));
    CHECK(contains(e, "last qtest lines"));
    CHECK(contains(e, "> frob"));
    CHECK(contains(e, "< FAIL Unknown command"));
  }
  SECTION("malformed reply") {
    ScriptedPeer peer({"HELLO\n"});
    qt::QtestClient c(qt::LineChannel(peer.client_fd), "virtio-net-pci");
    const std::string e = error_of([&] { c.inl(0xCFC); });
    CHECK(contains(e, "virtio-net-pci: malformed qtest reply 'HELLO'"));
  }
  SECTION("a value where OK alone belongs, and no value where one belongs") {
    ScriptedPeer peer({"OK 0x5\n", "OK\n"});
    qt::QtestClient c(qt::LineChannel(peer.client_fd), "virtio-net-pci");
    CHECK(contains(error_of([&] { c.outl(0xCF8, 0x80000000); }), "unexpected reply 'OK 0x5'"));
    CHECK(contains(error_of([&] { c.inl(0xCFC); }), "expected 'OK VALUE'"));
  }
  SECTION("wrong-length memory read") {
    ScriptedPeer peer({"OK 0x00\n"});
    qt::QtestClient c(qt::LineChannel(peer.client_fd), "virtio-blk-pci");
    CHECK(contains(error_of([&] { c.memread(0x1000, 4); }), "data length"));
  }
  SECTION("QEMU goes away mid-conversation") {
    ScriptedPeer peer({"OK\n", ""});
    qt::QtestClient c(qt::LineChannel(peer.client_fd), "virtio-keyboard-pci");
    c.outl(0xCF8, 0x80000000);
    const std::string e = error_of([&] { c.inl(0xCFC); });
    CHECK(contains(e, "virtio-keyboard-pci: QEMU closed the socket"));
    CHECK(contains(e, "> inl 0xcfc"));
  }
}

TEST_CASE("a QEMU that exits before connecting is an error and not a hang", "[qtest]") {
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_of([] {
    qt::QemuProcess p("/bin/false", {}, "virtio-blk-pci", milliseconds{5000});
  });
  CHECK(contains(e, "virtio-blk-pci: QEMU exited before connecting its qtest socket"));
  CHECK(contains(e, "QEMU stderr"));
  CHECK(std::chrono::steady_clock::now() - start < milliseconds{4000});
}

TEST_CASE("DMA push sends exactly the bytes the core changed and pull refreshes both copies",
          "[qtest]") {
  // Replies: two writes (push), then a read of the 128 used bytes (pull
  // after its own empty push).
  std::string guest = "OK 0x";
  for (int i = 0; i < 128; ++i) guest += i == 4 ? "aa" : "00";
  {
    ScriptedPeer peer({"OK\n", "OK\n", guest + "\n"});
    {
      qt::QtestClient c(qt::LineChannel(peer.client_fd), "virtio-test-pci");
      qt::QtestOsServices os(c, 4, 0x100000, 4096);
      aerov::drivers::windows7::DmaRegion r{};
      REQUIRE(os.alloc_dma(128, 64, &r));
      CHECK(r.pa == 0x100000);
      auto* p = static_cast<uint8_t*>(r.va);
      p[3] = 0x11;  // byte 4 stays as the core left it: the device may own it
      p[5] = 0x22;
      p[6] = 0x33;
      os.push();
      os.push();  // nothing new: no traffic
      CHECK(os.pushes() == 2);
      CHECK(os.pushed_bytes() == 3);
      os.pull();
      CHECK(os.pulls() == 1);
      CHECK(p[4] == 0xAA);  // what the device wrote
      CHECK(p[3] == 0x00);  // the snapshot replaces the mirror wholesale
    }
    peer.thread.join();
    REQUIRE(peer.requests.size() == 3);
    CHECK(peer.requests[0] == "write 0x100003 0x1 0x11");
    CHECK(peer.requests[1] == "write 0x100005 0x2 0x2233");
    CHECK(peer.requests[2] == "read 0x100000 0x80");
    peer.thread = std::thread([] {});  // the destructor joins
  }
}
