#!/usr/bin/env bash
# Installs every Debian 12 package the project needs. Idempotent: when all
# packages are present it changes nothing and does not touch the network.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ clang python3
  # libraries (tests, CLI, reports)
  catch2 librapidcheck-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libxxhash-dev
  # fuzzing: libFuzzer and sanitizer runtimes for clang
  libclang-rt-14-dev libfuzzer-14-dev
  # Windows 7 driver code: freestanding cross-compile check
  mingw-w64 g++-mingw-w64-i686 g++-mingw-w64-x86-64
  # interop: QEMU's own virtio devices over qtest, and Linux guests under QEMU
  # (TCG) driving our vhost-user backend; the kernel .deb is fetched with
  # apt-get download and unpacked into the build dir by
  # conformance/interop/fetch-kernel.sh (nothing lands in /boot)
  qemu-system-x86 qemu-utils busybox-static cpio xz-utils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
