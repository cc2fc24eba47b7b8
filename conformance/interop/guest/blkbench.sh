# blkbench: sequential 1 MiB direct writes then reads with dd, on our
# vhost-user disk (slot 04), on QEMU's built-in virtio-blk with its default
# 256-entry ring (slot 05) and with the contract's 128-entry ring (slot 06,
# the same seg_max as ours), alternating, three rounds, no fsync (both back-ends write the same host
# file, so a host fdatasync would time the host disk for whichever ran
# last); timed with /proc/uptime (10 ms ticks, so the
# disk is made large enough for each pass to take well over a second). The
# host computes MB/s and the ratio (bench/guest_blk_ratio.py).
. /tests/lib.sh
ours=$(disk_at_slot 04) || fail "no vhost-user disk at 00:04.0"
qemu=$(disk_at_slot 05) || fail "no built-in virtio-blk disk at 00:05.0"
qemu128=$(disk_at_slot 06) || fail "no built-in virtio-blk disk (queue-size=128) at 00:06.0"
mib=$(($(cat /sys/block/${ours#/dev/}/size) / 2048))
now() { cut -d' ' -f1 /proc/uptime | tr -d .; }
for round in 1 2 3; do
  for which in ours qemu qemu128; do
    eval dev=\$$which
    t0=$(now)
    for pass in 1 2 3 4; do
      dd if=/dev/zero of=$dev bs=1M count=$mib oflag=direct 2>/dev/null || fail "cmd=[dd if=/dev/zero of=$dev bs=1M count=$mib oflag=direct]"
    done
    t1=$(now)
    # Four passes each way keep the timed span well above the 10 ms tick.
    for pass in 1 2 3 4; do
      dd if=$dev of=/dev/null bs=1M count=$mib iflag=direct 2>/dev/null || fail "cmd=[dd if=$dev of=/dev/null bs=1M count=$mib iflag=direct]"
    done
    t2=$(now)
    echo "AEROV-BENCH $which write bytes=$((4 * mib * 1048576)) centiseconds=$((t1 - t0))"
    echo "AEROV-BENCH $which read bytes=$((4 * mib * 1048576)) centiseconds=$((t2 - t1))"
  done
done
