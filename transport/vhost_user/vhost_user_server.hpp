// Socket side of the vhost-user back-end: listens on a UNIX socket, reads
// framed messages with their SCM_RIGHTS descriptors, hands them to a
// VhostUserBackend and writes the replies; waits on the rings' kick
// eventfds and runs the device when one fires. Single-threaded: one poll
// loop, so the device model is never entered concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "transport/vhost_user/vhost_user_backend.hpp"

namespace aerov::transport::vhost_user {

struct ServeOptions {
  bool once = true;            // exit when the first front-end hangs up
  int poll_interval_ms = 100;  // how often stop() and on_tick are looked at
  bool verbose = false;        // every message to stderr
};

class VhostUserServer {
 public:
  explicit VhostUserServer(VhostUserBackend& backend) : backend_(backend) {}
  ~VhostUserServer();
  VhostUserServer(const VhostUserServer&) = delete;
  VhostUserServer& operator=(const VhostUserServer&) = delete;

  // Binds and listens (removes a stale socket file first). Returns an
  // error text, empty on success.
  std::string listen(const std::string& path);

  // Serves until stop_requested() returns true or (with once) the front-end
  // hangs up. on_tick runs after every poll wake-up (host-side work such as
  // a net backend's timers). Returns an error text on a framing or socket
  // error that ended the connection, empty otherwise.
  std::string run(const ServeOptions& options, const std::function<bool()>& stop_requested,
                  const std::function<void()>& on_tick = {});

 private:
  // One message in, reply out; false when the connection is finished.
  bool serve_message(int conn, const ServeOptions& options, std::string& error);

  VhostUserBackend& backend_;
  int listen_fd_ = -1;
  std::string path_;
};

}  // namespace aerov::transport::vhost_user
