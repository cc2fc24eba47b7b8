#!/usr/bin/env bash
# Records the device side of a Linux guest driving our virtio-blk model
# over vhost-user (conformance/interop, test blk, on a 128 KiB disk so the
# trace stays small) into traces/corpus/linux_blk_vhost_user.trace, which
# CI replays without QEMU. Needs the interop packages
# (scripts/install-deps.sh) and a built default preset.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
AEROV_CLI=${AEROV_CLI:-build/default/cli/aero-virtio} AEROV_INTEROP_DIR="$work" AEROV_DISK_KIB=128 \
  conformance/interop/run-guest.sh blk
cp "$work/blk/blk.trace" traces/corpus/linux_blk_vhost_user.trace
ls -l traces/corpus/linux_blk_vhost_user.trace
