#!/usr/bin/env bash
# Records the device side of a Linux guest driving our device models over
# vhost-user (conformance/interop) into traces/corpus, which CI replays
# without QEMU:
#   linux_blk_vhost_user.trace  test blk on a 128 KiB disk (small trace)
#   linux_net_vhost_user.trace  test net (ARP, ping of the scripted peer)
# Usage: scripts/record-guest-trace.sh [blk|net]... (default both). Needs
# the interop packages (scripts/install-deps.sh) and a built default preset.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ "$#" -gt 0 ] || set -- blk net
for test in "$@"; do
  AEROV_CLI=${AEROV_CLI:-build/default/cli/aero-virtio} AEROV_INTEROP_DIR="$work" AEROV_DISK_KIB=128 \
    conformance/interop/run-guest.sh "$test"
  cp "$work/$test/$test.trace" "traces/corpus/linux_${test}_vhost_user.trace"
  ls -l "traces/corpus/linux_${test}_vhost_user.trace"
done
