# blk: pseudo-random data across the whole disk, fsync (FLUSH), drop the page
# cache, read back and compare in the guest; the host compares the image.
. /tests/lib.sh
dev=$(disk_at_slot 04) || fail "no virtio-blk disk at 00:04.0 (ls /sys/block: $(ls /sys/block))"
bytes=$(($(cat /sys/block/${dev#/dev/}/size) * 512))
blocks=$((bytes / 65536))  # 64 KiB blocks: the recorded corpus run uses a 128 KiB disk
echo "AEROV-INFO disk=$dev bytes=$bytes"
run dd if=/dev/urandom of=/tmp/data bs=64k count=$blocks
want=$(sha256sum /tmp/data | cut -d' ' -f1)
run dd if=/tmp/data of=$dev bs=64k count=$blocks conv=fsync
run sync
echo 3 > /proc/sys/vm/drop_caches
got=$(dd if=$dev bs=64k count=$blocks 2>/dev/null | sha256sum | cut -d' ' -f1)
echo "AEROV-INFO written=$want read=$got"
[ "$want" = "$got" ] || fail "cmd=[dd if=$dev | sha256sum] read back $got, wrote $want"
echo "AEROV-SHA256 $want"
rm /tmp/data
