// `aero-virtio serve`: runs one device model as a vhost-user back-end on a
// UNIX socket (transport/vhost_user), for QEMU's vhost-user-blk-pci,
// virtio-net-pci with -netdev vhost-user, and vhost-user-input-pci.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace aerov::cli {

// Adds the subcommand; the returned function runs it once parsed and gives
// the exit code (-1 when the subcommand was not given).
std::function<int()> add_serve_command(CLI::App& app);

}  // namespace aerov::cli
