#!/usr/bin/env python3
"""Guest-visible virtio-blk throughput: our vhost-user back-end beside QEMU's
built-in virtio-blk on the same image, from one guest boot. QEMU's device
runs twice: with its default 256-entry ring ("qemu", seg_max 254) and with
the contract's 128-entry ring ("qemu128", seg_max 126 as ours), so the
ratio with the same ring geometry is reported beside the default one.

Reads the AEROV-BENCH lines the guest (conformance/interop/guest/blkbench.sh)
printed on its console, one per timed dd pass, e.g.
  AEROV-BENCH ours write bytes=134217728 centiseconds=212
and prints MB/s per device and direction (best of the rounds), the ratios
ours / qemu and ours / qemu128 of those, and the ratio within each round
with its median. Writes the same as JSON with --json. Exit 1 when numbers are
missing; the ratio itself is reported, never asserted (shared CI cores make
timing noisy)."""
import json
import re
import statistics
import sys

LINE = re.compile(r"AEROV-BENCH (ours|qemu128|qemu) (read|write) bytes=(\d+) centiseconds=(\d+)")


def parse(path):
    """MB/s per (device, op), one entry per round in console order."""
    rounds = {}
    with open(path, "rb") as f:
        for raw in f:
            m = LINE.search(raw.decode("utf-8", "replace"))
            if not m:
                continue
            who, op, nbytes, secs = m.group(1), m.group(2), int(m.group(3)), int(m.group(4)) / 100.0
            rounds.setdefault((who, op), []).append(nbytes / max(secs, 0.01) / 1e6)
    return rounds


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--json=")]
    json_out = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--json=")), None)
    if len(args) != 1:
        print("usage: guest_blk_ratio.py CONSOLE_LOG [--json=OUT]", file=sys.stderr)
        return 2
    rounds = parse(args[0])
    best = {k: max(v) for k, v in rounds.items()}
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
            # Each round times the devices back to back: the ratio within a
            # round sees the same host load, and its median shrugs off one
            # disturbed round.
            per_round = [a / b for a, b in zip(rounds[("ours", op)], rounds[(who, op)]) if b > 0]
            median = statistics.median(per_round) if per_round else float("nan")
            report[op][f"{who}_mb_s"] = round(other, 2)
            report[op][key] = round(ratio, 3)
            report[op][f"{key}_round_median"] = round(median, 3)
            verdict = "at least as fast" if ratio >= 1.0 else "slower"
            print(f"guest blk {op}: vhost-user (ours) {ours:.1f} MB/s, {label} {other:.1f} MB/s, "
                  f"ratio {ratio:.2f} ({verdict}); per round {', '.join(f'{r:.2f}' for r in per_round)}, "
                  f"median {median:.2f}")
    if json_out:
        with open(json_out, "w") as f:
            json.dump(report, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
