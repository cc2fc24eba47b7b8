# Shared by the guest tests. run: announce a command, run it, and on failure
# name it with its exit code so the host's report can quote it.
run() {
  echo "AEROV-CMD $*"
  "$@"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "AEROV-FAIL cmd=[$*] rc=$rc"
    exit 1
  fi
}
fail() {
  echo "AEROV-FAIL $*"
  exit 1
}
# Device node of the virtio-blk disk at PCI slot $1 (e.g. 04).
disk_at_slot() {
  for d in /sys/block/vd*; do
    case "$(readlink -f "$d/device")" in
      *"0000:00:$1.0"*) echo "/dev/${d##*/}"; return 0 ;;
    esac
  done
  return 1
}
