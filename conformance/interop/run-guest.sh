#!/usr/bin/env bash
# Boots Debian's kernel under QEMU (TCG) with a busybox initramfs and one of
# our device models attached over vhost-user, runs a guest-side test and
# checks the host side. Usage:
#   run-guest.sh TEST     TEST: blk, net, input or blkbench
# Environment: AEROV_CLI (the aero-virtio binary, required), AEROV_INTEROP_DIR
# (work dir, default ./interop-work), AEROV_BOOT_TIMEOUT (seconds, default 60).
# Exit codes: 0 pass, 1 fail, 77 skipped (a needed package is missing; the
# reason is printed). Every failure names the device, the guest command and
# the last guest output lines.
set -uo pipefail
test=${1:?usage: run-guest.sh blk|net|input|blkbench}
here=$(cd "$(dirname "$0")" && pwd)
cli=${AEROV_CLI:?AEROV_CLI must name the aero-virtio binary}
work=${AEROV_INTEROP_DIR:-$PWD/interop-work}
timeout_s=${AEROV_BOOT_TIMEOUT:-60}
mkdir -p "$work" && work=$(cd "$work" && pwd)
run_dir="$work/$test"
rm -rf "$run_dir" && mkdir -p "$run_dir"
console="$run_dir/console.log"

skip() { echo "SKIP interop $test: $*"; exit 77; }
failed() {
  echo "FAIL interop device=$test: $*"
  local cmd
  cmd=$(grep -a 'AEROV-CMD' "$console" 2>/dev/null | tail -1 | sed 's/^.*AEROV-CMD //')
  echo "  guest command: ${cmd:-<none reached>}"
  echo "  last guest output lines:"
  tail -n 15 "$console" 2>/dev/null | sed 's/^/    | /'
  if [ -s "$run_dir/serve.err" ]; then
    echo "  back-end stderr:"; tail -n 10 "$run_dir/serve.err" | sed 's/^/    | /'
  fi
  exit 1
}

for tool in qemu-system-x86_64 cpio xz; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/install-deps.sh installs the interop packages)"
done
busybox=/bin/busybox
[ -x "$busybox" ] && file_out=$(LC_ALL=C ldd "$busybox" 2>&1 || true) && case "$file_out" in *"not a dynamic"*|*"statically linked"*) ;; *) skip "busybox-static not installed" ;; esac
root=$("$here/fetch-kernel.sh" "$work/kernel") || { rc=$?; [ $rc -eq 77 ] && skip "Debian kernel package unavailable"; exit 1; }
vmlinuz=$(ls "$root"/boot/vmlinuz-* | head -1)
kver=${vmlinuz##*/vmlinuz-}
modroot="$root/lib/modules/$kver/kernel"

# ---- initramfs -----------------------------------------------------------
case "$test" in
  blk|blkbench) modules="virtio_pci virtio_blk" ;;
  net) modules="virtio_pci virtio_net" ;;
  input) modules="virtio_pci evdev virtio_input" ;;
  *) echo "run-guest.sh: unknown test $test" >&2; exit 2 ;;
esac
ird="$run_dir/initramfs"
mkdir -p "$ird"/{bin,dev,proc,sys,tmp,tests,lib/modules}
cp "$busybox" "$ird/bin/busybox"
cp "$here/guest/init" "$ird/init"
cp "$here/guest/"*.sh "$ird/tests/"
: > "$ird/modules.list"
# The .deb carries no modules.dep (depmod runs at install), so dependencies
# come from each module's own "depends=" modinfo field, loaded deps first.
module_file() { find "$modroot" -name "$1.ko" -o -name "$1.ko.xz" | head -1; }
add_module() {
  local name=$1 f dep
  grep -qx "$name.ko" "$ird/modules.list" && return 0
  f=$(module_file "$name")
  [ -n "$f" ] || skip "kernel $kver has no module $name"
  if [ "${f%.xz}" != "$f" ]; then xz -dc "$f" > "$ird/lib/modules/$name.ko"; else cp "$f" "$ird/lib/modules/$name.ko"; fi
  for dep in $(tr '\0' '\n' < "$ird/lib/modules/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
    add_module "$dep"
  done
  echo "$name.ko" >> "$ird/modules.list"
}
for m in $modules; do add_module "$m"; done
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1 > "$run_dir/initramfs.gz") || failed "building the initramfs"

# ---- back-end ------------------------------------------------------------
sock="$run_dir/vhost.sock"
serve_args=(serve --socket "$sock" --stats "$run_dir/stats.json" ${AEROV_SERVE_VERBOSE:+-v})
qemu_dev=()
mem_mib=256
case "$test" in
  blk)
    # The device side is recorded and, after the run, replayed without the
    # guest (AEROV_DISK_KIB sets the disk size; scripts/record-guest-trace.sh
    # records the corpus trace with a small one).
    truncate -s "${AEROV_DISK_KIB:-32768}K" "$run_dir/disk.img"
    serve_args+=(--device blk --image "$run_dir/disk.img" --record "$run_dir/blk.trace")
    qemu_dev=(-chardev "socket,id=vu0,path=$sock" -device "vhost-user-blk-pci,chardev=vu0,num-queues=1,addr=0x4")
    ;;
  blkbench)
    mib=${AEROV_BENCH_MIB:-256}
    truncate -s "${mib}M" "$run_dir/disk.img"
    serve_args+=(--device blk --image "$run_dir/disk.img")
    qemu_dev=(-chardev "socket,id=vu0,path=$sock" -device "vhost-user-blk-pci,chardev=vu0,num-queues=1,addr=0x4"
              -drive "file=$run_dir/disk.img,format=raw,if=none,id=qd0,file.locking=off"
              -device "virtio-blk-pci,drive=qd0,num-queues=1,addr=0x5"
              -drive "file=$run_dir/disk.img,format=raw,if=none,id=qd1,file.locking=off"
              -device "virtio-blk-pci,drive=qd1,num-queues=1,queue-size=128,addr=0x6")
    ;;
  net)
    serve_args+=(--device net --peer-ip 10.0.2.2 --pcap "$run_dir/net.pcap" --net-header-bytes 12
                 --record "$run_dir/net.trace")
    qemu_dev=(-chardev "socket,id=vu0,path=$sock" -netdev "vhost-user,id=n0,chardev=vu0"
              -device "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,mrg_rxbuf=off,vectors=0,romfile=,addr=0x4")
    ;;
  input)
    printf 'key 30 1\nkey 30 0\nkey 48 1\nkey 48 0\n' > "$run_dir/inject.txt"
    serve_args+=(--device input --input-kind keyboard --inject "$run_dir/inject.txt")
    qemu_dev=(-chardev "socket,id=vu0,path=$sock" -device "vhost-user-input-pci,chardev=vu0,addr=0x4")
    ;;
esac
"$cli" "${serve_args[@]}" 2> "$run_dir/serve.err" &
serve_pid=$!
cleanup() { kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; }
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || failed "back-end did not create $sock"

# ---- guest -----------------------------------------------------------------
start=$(date +%s.%N)
timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -accel "${AEROV_ACCEL:-tcg}" -m "$mem_mib" -smp 1 \
  -object "memory-backend-memfd,id=mem,size=${mem_mib}M,share=on" -machine "pc,memory-backend=mem" \
  -nodefaults -nographic -no-reboot -serial "file:$console" -monitor none -display none \
  -kernel "$vmlinuz" -initrd "$run_dir/initramfs.gz" \
  -append "console=ttyS0 panic=-1 loglevel=4 aerov.test=$test" \
  "${qemu_dev[@]}" > "$run_dir/qemu.out" 2>&1 &
qemu_pid=$!
if [ "$test" = input ]; then
  # The guest opens the event device, then says so; the host injects.
  for _ in $(seq $((timeout_s * 10))); do
    grep -aq 'AEROV-READY' "$console" 2>/dev/null && break
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -USR1 "$serve_pid" 2>/dev/null
fi
wait "$qemu_pid"
qemu_rc=$?
end=$(date +%s.%N)
boot_s=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
kill -TERM "$serve_pid" 2>/dev/null
wait "$serve_pid"; serve_rc=$?
trap - EXIT
echo "interop $test: guest ran ${boot_s}s (qemu exit $qemu_rc, back-end exit $serve_rc)"
[ "$qemu_rc" -eq 124 ] && failed "guest did not finish within ${timeout_s}s"
if [ "$qemu_rc" -ne 0 ] && grep -q 'requires kvm' "$run_dir/qemu.out"; then
  # QEMU 7.2's vhost-user-input-pci refuses TCG ("vhost initialization
  # failed: requires kvm"), and KVM on this machine kind does not boot the
  # guest. Not a pass: reported as skipped with QEMU's own words.
  skip "QEMU refuses $test under -accel ${AEROV_ACCEL:-tcg}: $(grep 'requires kvm' "$run_dir/qemu.out" | head -1)"
fi
[ "$qemu_rc" -ne 0 ] && failed "qemu exited $qemu_rc: $(tail -3 "$run_dir/qemu.out")"
grep -aq "AEROV-END $test rc=0" "$console" || failed "guest test did not pass"
[ "$serve_rc" -eq 0 ] || failed "back-end exited $serve_rc"
errors=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vhost_user"]["errors"])' "$run_dir/stats.json")
[ "$errors" = 0 ] && [ "$(grep -c 'vhost-user: error' "$run_dir/serve.err")" = 0 ] || failed "back-end reported protocol errors"

# ---- host-side checks ----------------------------------------------------------
# The device side was recorded (serve --record); it must replay without the
# guest exactly as the guest provoked it.
replay_check() {
  [ "$(stat record complete)" = True ] || failed "the trace recording stopped early: $(stat record stopped)"
  "$cli" replay "$run_dir/$1.trace" > "$run_dir/replay.out" 2>&1 ||
    failed "replaying the recorded trace without the guest diverged: $(tail -3 "$run_dir/replay.out")"
  echo "interop $1: trace $(wc -c < "$run_dir/$1.trace") bytes replayed: $(tail -1 "$run_dir/replay.out")"
}
stat() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]][sys.argv[3]])' "$run_dir/stats.json" "$@"; }
case "$test" in
  blk)
    want=$(grep -a 'AEROV-SHA256' "$console" | awk '{print $2}' | tr -d '\r')
    got=$(sha256sum "$run_dir/disk.img" | cut -d' ' -f1)
    [ "$want" = "$got" ] || failed "host image sha256 $got differs from the guest's $want"
    [ "$(stat blk flushes_synced)" -gt 0 ] || failed "the guest's fsync reached the back-end as no FLUSH"
    replay_check blk
    [ "$(stat blk ioerr)" -eq 0 ] || failed "back-end completed $(stat blk ioerr) requests with IOERR"
    echo "interop blk: image matches ($got), $(stat blk ok) requests, $(stat blk flushes_synced) flushes"
    ;;
  blkbench)
    python3 "$here/../../bench/guest_blk_ratio.py" "$console" --json="$run_dir/bench.json" || failed "no bench numbers"
    ;;
  net)
    "$here/check-net.sh" "$run_dir" "$console" || failed "net host-side checks"
    replay_check net
    ;;
  input)
    "$here/check-input.sh" "$run_dir" "$console" || failed "input host-side checks"
    ;;
esac
echo "PASS interop $test (${boot_s}s)"
