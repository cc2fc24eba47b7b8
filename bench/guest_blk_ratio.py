#!/usr/bin/env python3
"""Guest-visible virtio-blk throughput: our vhost-user back-end beside QEMU's
built-in virtio-blk on the same image, from one guest boot. QEMU's device
runs twice: with its default 256-entry ring ("qemu", seg_max 254) and with
the contract's 128-entry ring ("qemu128", seg_max 126 as ours), so the
ratio with the same ring geometry is reported beside the default one.

Reads the AEROV-BENCH lines the guest (conformance/interop/guest/blkbench.sh)
printed on its console, one per timed dd pass, e.g.
  AEROV-BENCH ours write bytes=134217728 centiseconds=212
and prints MB/s per device and direction (best of the rounds) and the ratios
ours / qemu and ours / qemu128. Writes the same as JSON with --json. Exit 1 when numbers are
missing; the ratio itself is reported, never asserted (shared CI cores make
timing noisy)."""
import json
import re
import sys

LINE = re.compile(r"AEROV-BENCH (ours|qemu128|qemu) (read|write) bytes=(\d+) centiseconds=(\d+)")


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
        ours = best.get(("ours", op))
        if ours is None:
            print(f"guest blk bench: no {op} numbers for ours")
            ok = False
            continue
        report[op] = {"ours_mb_s": round(ours, 2)}
        for who, key, label in (("qemu", "ratio", "QEMU virtio-blk (256-entry ring)"),
                                ("qemu128", "ratio_same_ring", "QEMU virtio-blk (128-entry ring, as ours)")):
            other = best.get((who, op))
            if other is None:
                print(f"guest blk bench: no {op} numbers for {who}")
                ok = False
                continue
            ratio = ours / other if other > 0 else float("inf")
            report[op][f"{who}_mb_s"] = round(other, 2)
            report[op][key] = round(ratio, 3)
            verdict = "at least as fast" if ratio >= 1.0 else "slower"
            print(f"guest blk {op}: vhost-user (ours) {ours:.1f} MB/s, {label} {other:.1f} MB/s, "
                  f"ratio {ratio:.2f} ({verdict})")
    if json_out:
        with open(json_out, "w") as f:
            json.dump(report, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
