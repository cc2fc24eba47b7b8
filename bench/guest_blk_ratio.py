#!/usr/bin/env python3
"""Guest-visible virtio-blk throughput: our vhost-user back-end beside QEMU's
built-in virtio-blk on the same image, from one guest boot.

Reads the AEROV-BENCH lines the guest (conformance/interop/guest/blkbench.sh)
printed on its console, one per timed dd pass, e.g.
  AEROV-BENCH ours write bytes=134217728 centiseconds=212
and prints MB/s per device and direction (best of the rounds) and the ratio
ours / qemu. Writes the same as JSON with --json. Exit 1 when numbers are
missing; the ratio itself is reported, never asserted (shared CI cores make
timing noisy)."""
import json
import re
import sys

LINE = re.compile(r"AEROV-BENCH (ours|qemu) (read|write) bytes=(\d+) centiseconds=(\d+)")


def parse(path):
    best = {}
    with open(path, "rb") as f:
        for raw in f:
            m = LINE.search(raw.decode("utf-8", "replace"))
            if not m:
                continue
            who, op, nbytes, secs = m.group(1), m.group(2), int(m.group(3)), int(m.group(4)) / 100.0
            mbps = nbytes / max(secs, 0.01) / 1e6
            key = (who, op)
            best[key] = max(best.get(key, 0.0), mbps)
    return best


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--json=")]
    json_out = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--json=")), None)
    if len(args) != 1:
        print("usage: guest_blk_ratio.py CONSOLE_LOG [--json=OUT]", file=sys.stderr)
        return 2
    best = parse(args[0])
    report = {}
    ok = True
    for op in ("write", "read"):
        ours, qemu = best.get(("ours", op)), best.get(("qemu", op))
        if ours is None or qemu is None:
            print(f"guest blk bench: no {op} numbers for {'ours' if ours is None else 'qemu'}")
            ok = False
            continue
        ratio = ours / qemu if qemu > 0 else float("inf")
        report[op] = {"ours_mb_s": round(ours, 2), "qemu_mb_s": round(qemu, 2), "ratio": round(ratio, 3)}
        verdict = "at least as fast" if ratio >= 1.0 else "slower"
        print(f"guest blk {op}: vhost-user (ours) {ours:.1f} MB/s, QEMU virtio-blk {qemu:.1f} MB/s, "
              f"ratio {ratio:.2f} ({verdict})")
    if json_out:
        with open(json_out, "w") as f:
            json.dump(report, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
