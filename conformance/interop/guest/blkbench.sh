# blkbench: sequential 1 MiB direct writes then reads with dd, on our
# vhost-user disk (slot 04) and on QEMU's built-in virtio-blk (slot 05),
# twice each, alternating; the host computes the MB/s ratio.
. /tests/lib.sh
ours=$(disk_at_slot 04) || fail "no vhost-user disk at 00:04.0"
qemu=$(disk_at_slot 05) || fail "no built-in virtio-blk disk at 00:05.0"
mib=$(($(cat /sys/block/${ours#/dev/}/size) / 2048))
for round in 1 2; do
  for which in ours qemu; do
    eval dev=\$$which
    out=$(dd if=/dev/zero of=$dev bs=1M count=$mib oflag=direct conv=fsync 2>&1) || fail "cmd=[dd of=$dev] $out"
    echo "AEROV-BENCH $which write $(echo "$out" | tail -1)"
    out=$(dd if=$dev of=/dev/null bs=1M count=$mib iflag=direct 2>&1) || fail "cmd=[dd if=$dev] $out"
    echo "AEROV-BENCH $which read $(echo "$out" | tail -1)"
  done
done
