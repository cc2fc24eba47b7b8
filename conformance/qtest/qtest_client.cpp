#include "conformance/qtest/qtest_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace aerov::conformance::qtest {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---- LineChannel -------------------------------------------------------------

LineChannel::~LineChannel() {
  if (fd_ >= 0) ::close(fd_);
}

LineChannel::LineChannel(LineChannel&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

LineChannel& LineChannel::operator=(LineChannel&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

void LineChannel::write_line(const std::string& line) {
  if (fd_ < 0) throw QtestError("socket not connected");
  const std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    // MSG_NOSIGNAL: a QEMU that died is an error message, not SIGPIPE.
    const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw QtestError(std::string("socket write failed (QEMU gone?): ") + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
}

std::string LineChannel::read_line(milliseconds timeout) {
  if (fd_ < 0) throw QtestError("socket not connected");
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (buffer_.size() > kLineBytesMax) {
      throw QtestError("reply line longer than " + std::to_string(kLineBytesMax) + " bytes");
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      throw QtestError("no reply within " + std::to_string(timeout.count()) + " ms");
    }
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw QtestError(std::string("poll failed: ") + std::strerror(errno));
    if (r == 0) continue;  // the deadline check above reports it
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw QtestError(std::string("socket read failed: ") + std::strerror(errno));
    if (n == 0) {
      throw QtestError("QEMU closed the socket (exited or crashed)" +
                       (buffer_.empty() ? std::string() : " after a partial line"));
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

// ---- QtestClient -------------------------------------------------------------

QtestClient::QtestClient(LineChannel channel, std::string device)
    : channel_(std::move(channel)), device_(std::move(device)),
      trace_(std::getenv("AEROV_QTEST_TRACE") != nullptr) {}

void QtestClient::fail(const std::string& what) const {
  throw QtestError(device_ + ": " + what + "\nlast qtest lines:\n" + transcript_.tail());
}

std::string QtestClient::command(const std::string& request) {
  transcript_.sent(request);
  if (trace_) std::fprintf(stderr, "> %.200s\n", request.c_str());
  try {
    channel_.write_line(request);
    // Bounded: at most one IRQ line per input pin change; 4096 is far more
    // than one request can cause, so more means a stream gone wrong.
    for (int i = 0; i < 4096; ++i) {
      std::string line = channel_.read_line(timeout_);
      transcript_.received(line);
      if (trace_) std::fprintf(stderr, "< %.200s\n", line.c_str());
      switch (classify_line(line)) {
        case LineKind::kIrq: {
          const IrqEvent e = parse_irq(line);
          if (e.line < irq_levels_.size()) irq_levels_[e.line] = e.raised;
          irq_events_.push_back(e);
          continue;
        }
        case LineKind::kOk: return line;
        case LineKind::kFail: fail("QEMU refused '" + request.substr(0, 80) + "': " + line);
        case LineKind::kMalformed: fail("malformed qtest reply '" + line.substr(0, 160) + "'");
      }
    }
    fail("more than 4096 IRQ lines before a reply");
  } catch (const QtestError& e) {
    const std::string msg = e.what();
    if (msg.rfind(device_ + ": ", 0) == 0) throw;
    fail(msg);
  }
}

void QtestClient::out(const char* op, uint16_t port, uint32_t v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s 0x%x 0x%x", op, port, v);
  const std::string reply = command(buf);
  if (reply != "OK") fail("unexpected reply '" + reply + "'");
}

uint64_t QtestClient::in(const char* op, uint16_t port) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s 0x%x", op, port);
  const std::string reply = command(buf);
  try {
    return parse_ok_value(reply);
  } catch (const QtestError& e) {
    fail(e.what());
  }
}

uint64_t QtestClient::mmio_read(uint64_t addr, uint8_t width) {
  static constexpr const char* kOps[] = {nullptr, "readb", "readw", nullptr, "readl",
                                         nullptr, nullptr, nullptr, "readq"};
  if (width > 8 || kOps[width] == nullptr) fail("bad MMIO read width " + std::to_string(width));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s 0x%llx", kOps[width], static_cast<unsigned long long>(addr));
  const std::string reply = command(buf);
  try {
    return parse_ok_value(reply);
  } catch (const QtestError& e) {
    fail(e.what());
  }
}

void QtestClient::mmio_write(uint64_t addr, uint8_t width, uint64_t value) {
  static constexpr const char* kOps[] = {nullptr, "writeb", "writew", nullptr, "writel",
                                         nullptr, nullptr, nullptr, "writeq"};
  if (width > 8 || kOps[width] == nullptr) fail("bad MMIO write width " + std::to_string(width));
  char buf[80];
  std::snprintf(buf, sizeof buf, "%s 0x%llx 0x%llx", kOps[width],
                static_cast<unsigned long long>(addr), static_cast<unsigned long long>(value));
  const std::string reply = command(buf);
  if (reply != "OK") fail("unexpected reply '" + reply + "'");
}

std::vector<uint8_t> QtestClient::memread(uint64_t addr, size_t size) {
  if (size == 0) return {};  // QEMU asserts on a zero-length read
  char buf[64];
  std::snprintf(buf, sizeof buf, "read 0x%llx 0x%zx", static_cast<unsigned long long>(addr), size);
  const std::string reply = command(buf);
  try {
    return parse_ok_data(reply, size);
  } catch (const QtestError& e) {
    fail(e.what());
  }
}

void QtestClient::memwrite(uint64_t addr, const uint8_t* data, size_t size) {
  if (size == 0) return;
  char head[64];
  std::snprintf(head, sizeof head, "write 0x%llx 0x%zx ", static_cast<unsigned long long>(addr),
                size);
  const std::string reply = command(head + encode_hex(data, size));
  if (reply != "OK") fail("unexpected reply '" + reply + "'");
}

uint64_t QtestClient::clock_step(uint64_t ns) {
  const std::string reply = command("clock_step " + std::to_string(ns));
  try {
    return parse_ok_value(reply);
  } catch (const QtestError& e) {
    fail(e.what());
  }
}

void QtestClient::irq_intercept_in(const std::string& qom_path) {
  const std::string reply = command("irq_intercept_in " + qom_path);
  if (reply != "OK") fail("unexpected reply '" + reply + "'");
}

// ---- QmpClient ---------------------------------------------------------------

std::string QmpClient::read_reply() {
  for (int i = 0; i < 256; ++i) {  // bounded: events QEMU may emit before a reply
    std::string line = channel_.read_line(milliseconds{10000});
    transcript_.received(line);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      throw QtestError(device_ + ": malformed QMP line\nlast QMP lines:\n" + transcript_.tail());
    }
    if (j.contains("event")) continue;
    return line;
  }
  throw QtestError(device_ + ": no QMP reply among 256 events\nlast QMP lines:\n" +
                   transcript_.tail());
}

void QmpClient::handshake() {
  try {
    const std::string greeting = read_reply();
    if (greeting.find("\"QMP\"") == std::string::npos) {
      throw QtestError("QMP greeting missing");
    }
    execute(R"({"execute": "qmp_capabilities"})");
  } catch (const QtestError& e) {
    const std::string msg = e.what();
    if (msg.rfind(device_ + ": ", 0) == 0) throw;
    throw QtestError(device_ + ": QMP: " + msg + "\nlast QMP lines:\n" + transcript_.tail());
  }
}

void QmpClient::execute(const std::string& json) {
  transcript_.sent(json);
  std::string reply;
  try {
    channel_.write_line(json);
    reply = read_reply();
  } catch (const QtestError& e) {
    const std::string msg = e.what();
    if (msg.rfind(device_ + ": ", 0) == 0) throw;
    throw QtestError(device_ + ": QMP: " + msg + "\nlast QMP lines:\n" + transcript_.tail());
  }
  const auto j = nlohmann::json::parse(reply);
  if (j.contains("error")) {
    throw QtestError(device_ + ": QMP command failed: " + j["error"].dump() +
                     "\nlast QMP lines:\n" + transcript_.tail());
  }
  if (!j.contains("return")) {
    throw QtestError(device_ + ": QMP reply without 'return'\nlast QMP lines:\n" +
                     transcript_.tail());
  }
}

// ---- QemuProcess -------------------------------------------------------------

std::string QemuProcess::find_binary() {
  if (const char* forced = std::getenv("AEROV_QEMU"); forced != nullptr && *forced != '\0') {
    return ::access(forced, X_OK) == 0 ? std::string(forced) : std::string();
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    if (d.empty()) continue;
    const std::string candidate = d + "/qemu-system-x86_64";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

namespace {

int listen_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw QtestError(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    throw QtestError("socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    throw QtestError("listen on " + path + ": " + err);
  }
  return fd;
}

// This QEMU has no qtest accelerator: a vCPU runs under TCG, and with
// SeaBIOS it would enumerate PCI through 0xCF8/0xCFC while the harness
// does, corrupting both config cycles (seen: about one read in a thousand
// answered for another register). The firmware given instead is 64 KiB
// whose reset vector (16 bytes below the top) is `cli; hlt; jmp $-1`: the
// CPU stops at once and the harness is the machine's only master.
// (-S would stop the CPU too, but a stopped VM's virtio-net does not
// receive.)
void write_halting_bios(const std::string& path) {
  std::vector<char> rom(64 * 1024, '\xF4');  // hlt everywhere
  const char reset[] = {'\xFA', '\xF4', '\xEB', '\xFD'};  // cli; hlt; jmp -3 (to hlt)
  std::memcpy(rom.data() + rom.size() - 16, reset, sizeof reset);
  std::ofstream out(path, std::ios::binary);
  out.write(rom.data(), static_cast<std::streamsize>(rom.size()));
  if (!out) throw QtestError("cannot write " + path);
}

}  // namespace

QemuProcess::QemuProcess(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& device, milliseconds timeout)
    : device_(device) {
  const fs::path base = fs::temp_directory_path() / "aerov-qtest-XXXXXX";
  std::string templ = base.string();
  if (::mkdtemp(templ.data()) == nullptr) {
    throw QtestError(device + ": mkdtemp: " + std::strerror(errno));
  }
  dir_ = templ;
  const std::string qtest_path = dir_ + "/qtest.sock";
  const std::string qmp_path = dir_ + "/qmp.sock";
  const std::string log_path = dir_ + "/qemu.stderr";
  const std::string bios_path = dir_ + "/halt.bin";
  int qtest_listen = -1;
  int qmp_listen = -1;
  try {
    qtest_listen = listen_unix(qtest_path);
    qmp_listen = listen_unix(qmp_path);
    write_halting_bios(bios_path);
    std::vector<std::string> argv_s = {binary,        "-qtest",     "unix:" + qtest_path,
                                       "-qtest-log",  "/dev/null",  "-qmp",
                                       "unix:" + qmp_path, "-display", "none",
                                       "-nodefaults", "-machine",   "pc",
                                       "-m",          "256M",
                                       "-accel",      "tcg",
                                       "-bios",       bios_path};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) throw QtestError("open " + log_path + ": " + std::strerror(errno));
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null_fd = ::open("/dev/null", O_RDONLY);
      ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execv(binary.c_str(), argv.data());
      std::fprintf(stderr, "exec %s: %s\n", binary.c_str(), std::strerror(errno));
      ::_exit(127);
    }
    ::close(log_fd);
    if (pid_ < 0) throw QtestError(std::string("fork: ") + std::strerror(errno));
    const auto deadline = Clock::now() + timeout;
    const int qtest_fd = accept_one(qtest_listen, deadline, "qtest");
    qtest_ = std::make_unique<QtestClient>(LineChannel(qtest_fd), device);
    const int qmp_fd = accept_one(qmp_listen, deadline, "QMP");
    qmp_ = std::make_unique<QmpClient>(LineChannel(qmp_fd), device);
    ::close(qtest_listen);
    ::close(qmp_listen);
    qmp_->handshake();
  } catch (const QtestError& e) {
    if (qtest_listen >= 0) ::close(qtest_listen);
    if (qmp_listen >= 0) ::close(qmp_listen);
    const std::string tail = stderr_tail();
    stop();
    std::string msg = e.what();
    if (msg.rfind(device + ": ", 0) != 0) msg = device + ": " + msg;
    throw QtestError(msg + "\nQEMU stderr:\n" + tail);
  }
}

int QemuProcess::accept_one(int listen_fd, Clock::time_point deadline, const char* what) {
  for (;;) {
    if (!alive()) {
      throw QtestError(std::string("QEMU exited before connecting its ") + what + " socket");
    }
    if (Clock::now() >= deadline) {
      throw QtestError(std::string("QEMU did not connect its ") + what + " socket in time");
    }
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) return fd;
    }
  }
}

bool QemuProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void QemuProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string QemuProcess::stderr_tail() const {
  std::ifstream in(dir_ + "/qemu.stderr");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.size() > 2000) all = "..." + all.substr(all.size() - 2000);
  return all.empty() ? "  (empty)\n" : all;
}

void QemuProcess::stop() {
  qtest_.reset();  // closing qtest makes QEMU exit on its own
  qmp_.reset();
  if (pid_ > 0) {
    // Bounded wait: 2 s for a clean exit after SIGTERM, then SIGKILL.
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200 && alive(); ++i) {
      std::this_thread::sleep_for(milliseconds{10});
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  if (!dir_.empty() && std::getenv("AEROV_QTEST_KEEP") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

QemuProcess::~QemuProcess() { stop(); }

}  // namespace aerov::conformance::qtest
