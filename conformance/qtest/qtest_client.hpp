// Talking to a QEMU started for qtest: the line channel (every read under a
// deadline, so a QEMU that hangs or dies is an error, never a hang), the
// qtest client (PIO, MMIO, guest memory, clock, IRQ interception), a small
// QMP client for what qtest cannot do (input events), and the QEMU process
// with its two sockets. Errors are QtestError naming the device under test
// and the last protocol lines.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "conformance/qtest/qtest_protocol.hpp"

namespace aerov::conformance::qtest {

// One connected stream socket read line by line.
class LineChannel {
 public:
  static constexpr size_t kLineBytesMax = size_t{64} << 20;  // a 32 MiB `read` reply

  LineChannel() = default;
  explicit LineChannel(int fd) : fd_(fd) {}
  ~LineChannel();
  LineChannel(const LineChannel&) = delete;
  LineChannel& operator=(const LineChannel&) = delete;
  LineChannel(LineChannel&& other) noexcept;
  LineChannel& operator=(LineChannel&& other) noexcept;

  void write_line(const std::string& line);  // appends '\n'
  // The next line without its '\n'. Throws QtestError on timeout, on the
  // peer closing the stream and on a line longer than kLineBytesMax.
  std::string read_line(std::chrono::milliseconds timeout);
  bool open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

class QtestClient {
 public:
  static constexpr std::chrono::milliseconds kReplyTimeoutDefault{10000};

  // `device` names what is under test in every error ("virtio-blk-pci").
  // AEROV_QTEST_TRACE=1 in the environment prints every line to stderr.
  QtestClient(LineChannel channel, std::string device);

  // One request, one reply: IRQ lines before the reply are recorded; FAIL,
  // malformed replies, timeouts and a closed socket throw.
  std::string command(const std::string& request);

  void outb(uint16_t port, uint8_t v) { out("outb", port, v); }
  void outw(uint16_t port, uint16_t v) { out("outw", port, v); }
  void outl(uint16_t port, uint32_t v) { out("outl", port, v); }
  uint8_t inb(uint16_t port) { return static_cast<uint8_t>(in("inb", port)); }
  uint16_t inw(uint16_t port) { return static_cast<uint16_t>(in("inw", port)); }
  uint32_t inl(uint16_t port) { return static_cast<uint32_t>(in("inl", port)); }
  // width 1, 2, 4 or 8.
  uint64_t mmio_read(uint64_t addr, uint8_t width);
  void mmio_write(uint64_t addr, uint8_t width, uint64_t value);
  std::vector<uint8_t> memread(uint64_t addr, size_t size);
  void memwrite(uint64_t addr, const uint8_t* data, size_t size);
  uint64_t clock_step(uint64_t ns);
  // Reports the ISA/IOAPIC inputs ("ioapic" on pc) as IRQ lines.
  void irq_intercept_in(const std::string& qom_path);
  bool irq_level(uint32_t line) const { return line < irq_levels_.size() && irq_levels_[line]; }
  const std::vector<IrqEvent>& irq_events() const { return irq_events_; }

  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
  const std::string& device() const { return device_; }
  const Transcript& transcript() const { return transcript_; }
  // A QtestError whose message is "<device>: <what>" plus the transcript.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void out(const char* op, uint16_t port, uint32_t v);
  uint64_t in(const char* op, uint16_t port);

  LineChannel channel_;
  std::string device_;
  Transcript transcript_;
  std::chrono::milliseconds timeout_ = kReplyTimeoutDefault;
  std::array<bool, 256> irq_levels_{};
  std::vector<IrqEvent> irq_events_;
  bool trace_ = false;
};

// QMP, only as much as the harness needs: the greeting, capabilities
// negotiation and commands whose "return" is not looked at.
class QmpClient {
 public:
  QmpClient(LineChannel channel, std::string device)
      : channel_(std::move(channel)), device_(std::move(device)) {}
  void handshake();
  // `json` is one complete command object; asynchronous events before the
  // reply are skipped; an "error" reply throws with its description.
  void execute(const std::string& json);

 private:
  std::string read_reply();
  LineChannel channel_;
  std::string device_;
  Transcript transcript_;
};

// qemu-system-x86_64 started with -qtest and -qmp on unix sockets this
// object listens on, in a private temporary directory it removes. QEMU's
// stderr goes to a file there; its tail is part of every error.
class QemuProcess {
 public:
  // Absolute path of qemu-system-x86_64 in PATH (or $AEROV_QEMU), "" if none.
  static std::string find_binary();

  // `args` follow the fixed ones (-qtest, -qmp, -display none, -nodefaults,
  // -accel tcg, -bios <a ROM that halts the CPU at reset>,
  // -machine pc, -m 256M). Throws QtestError if QEMU does not connect
  // within `timeout` (with its stderr).
  QemuProcess(const std::string& binary, const std::vector<std::string>& args,
              const std::string& device,
              std::chrono::milliseconds timeout = std::chrono::milliseconds{15000});
  ~QemuProcess();
  QemuProcess(const QemuProcess&) = delete;
  QemuProcess& operator=(const QemuProcess&) = delete;

  QtestClient& qtest() { return *qtest_; }
  QmpClient& qmp() { return *qmp_; }
  const std::string& dir() const { return dir_; }
  std::string stderr_tail() const;
  // Still running (not reaped)?
  bool alive();
  // Fault injection for the harness's own error path: SIGKILL and reap.
  void kill_now();

 private:
  void stop();
  int accept_one(int listen_fd, std::chrono::steady_clock::time_point deadline, const char* what);

  std::string device_;
  std::string dir_;
  pid_t pid_ = -1;
  std::unique_ptr<QtestClient> qtest_;
  std::unique_ptr<QmpClient> qmp_;
};

}  // namespace aerov::conformance::qtest
