#include "transport/vhost_user/vhost_user_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

namespace aerov::transport::vhost_user {

namespace {

// Reads exactly len bytes (and, for the header, up to kMaxFdsPerMessage
// descriptors). Returns 0 on success, 1 on orderly hang-up, -1 on error.
int read_full(int fd, void* buf, size_t len, std::vector<int>* fds) {
  size_t got = 0;
  while (got < len) {
    iovec iov{static_cast<uint8_t*>(buf) + got, len - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fds != nullptr) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
    }
    const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 1;
    if (fds != nullptr) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int v;
          std::memcpy(&v, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          fds->push_back(v);
        }
      }
      if ((msg.msg_flags & MSG_CTRUNC) != 0) return -1;
    }
    got += static_cast<size_t>(n);
  }
  return 0;
}

bool write_full(int fd, const void* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::send(fd, static_cast<const uint8_t*>(buf) + done, len - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

VhostUserServer::~VhostUserServer() {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

std::string VhostUserServer::listen(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return "socket path empty or too long: " + path;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return std::string("socket: ") + std::strerror(errno);
  ::unlink(path.c_str());
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 1) != 0) {
    return "bind/listen " + path + ": " + std::strerror(errno);
  }
  path_ = path;
  return {};
}

bool VhostUserServer::serve_message(int conn, const ServeOptions& options, std::string& error) {
  MsgHeader h{};
  Message m;
  int r = read_full(conn, &h, sizeof(h), &m.fds);
  if (r != 0) {
    for (int fd : m.fds) ::close(fd);
    if (r < 0) error = std::string("reading a message header: ") + std::strerror(errno);
    return false;
  }
  m.request = h.request;
  m.flags = h.flags;
  const VhostError he = check_header(h);
  if (he != VhostError::kNone) {
    for (int fd : m.fds) ::close(fd);
    error = std::string(request_name(h.request)) + " (" + std::to_string(h.request) + "): " +
            std::string(to_string(he)) + " (size " + std::to_string(h.size) + ")";
    return false;
  }
  m.payload.resize(h.size);
  if (h.size != 0 && read_full(conn, m.payload.data(), h.size, nullptr) != 0) {
    for (int fd : m.fds) ::close(fd);
    error = std::string("short payload for ") + std::string(request_name(h.request));
    return false;
  }
  if (options.verbose) {
    std::cerr << "vhost-user: " << request_name(h.request) << " size " << h.size << " fds " << m.fds.size() << "\n";
  }
  const uint64_t errors_before = backend_.stats().errors;
  std::optional<Reply> reply = backend_.handle(m);
  if (backend_.stats().errors != errors_before) std::cerr << "vhost-user: error: " << backend_.last_error() << "\n";
  if (reply) {
    MsgHeader rh{reply->request, kVersion | kFlagReply, static_cast<uint32_t>(reply->payload.size())};
    std::vector<uint8_t> out(reinterpret_cast<const uint8_t*>(&rh), reinterpret_cast<const uint8_t*>(&rh + 1));
    out.insert(out.end(), reply->payload.begin(), reply->payload.end());
    if (!write_full(conn, out.data(), out.size())) {
      error = std::string("writing a reply: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

std::string VhostUserServer::run(const ServeOptions& options, const std::function<bool()>& stop_requested,
                                 const std::function<void()>& on_tick) {
  int conn = -1;
  std::string error;
  std::vector<pollfd> fds;
  std::vector<uint16_t> rings;
  while (!stop_requested()) {
    fds.clear();
    rings.clear();
    fds.push_back(pollfd{conn >= 0 ? conn : listen_fd_, POLLIN, 0});
    if (conn >= 0) {
      for (const auto& k : backend_.kick_fds()) {
        fds.push_back(pollfd{k.fd, POLLIN, 0});
        rings.push_back(k.ring);
      }
    }
    const int n = ::poll(fds.data(), fds.size(), options.poll_interval_ms);
    if (n < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
    if (n > 0) {
      // Kicks first: the kick descriptors may be replaced by the message.
      for (size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        uint64_t count = 0;
        if (::read(fds[i].fd, &count, sizeof(count)) == sizeof(count)) backend_.kick(rings[i - 1]);
      }
      if (conn < 0 && (fds[0].revents & POLLIN) != 0) {
        conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return std::string("accept: ") + std::strerror(errno);
      } else if (conn >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        if (!serve_message(conn, options, error)) {
          ::close(conn);
          conn = -1;
          backend_.disconnect();
          if (!error.empty()) std::cerr << "vhost-user: connection closed: " << error << "\n";
          if (options.once) break;
          error.clear();
        }
      }
    }
    if (on_tick) on_tick();
  }
  if (conn >= 0) {
    ::close(conn);
    backend_.disconnect();
  }
  return error;
}

}  // namespace aerov::transport::vhost_user
