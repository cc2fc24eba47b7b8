#!/usr/bin/env python3
"""Ratio of each virtqueue benchmark case to its raw-copy baseline.

    build/default/bench/aerov_bench_virtqueue --benchmark_format=json \\
        --benchmark_repetitions=5 --benchmark_report_aggregates_only=true > bench.json
    python3 bench/compare.py bench.json        # or '-' for stdin

Each case carries a `descs` counter (descriptors moved per round trip) and is
paired with Baseline_RawRingCopy/<descs> from the same run, so both numbers
come from the same machine state. With repetitions the median is used, else
the single run. Exits 1 when the input has no cases or a baseline is missing.
"""
import json
import sys

BASELINE = "Baseline_RawRingCopy"


def load(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path) as f:
        return json.load(f)


def pick(benchmarks):
    """run_name -> entry: the median aggregate if any, else the iteration run."""
    chosen, have_median = {}, set()
    for b in benchmarks:
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                chosen[name] = b
                have_median.add(name)
        elif name not in have_median and name not in chosen:
            chosen[name] = b
    return chosen


def ns_per_roundtrip(b):
    if "ns_per_roundtrip" in b:
        return float(b["ns_per_roundtrip"])
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return float(b["cpu_time"]) * scale


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    data = load(argv[1])
    runs = pick(data.get("benchmarks", []))
    cases = {n: b for n, b in runs.items() if not n.startswith(BASELINE)}
    if not cases:
        print("compare.py: no benchmark cases in the input", file=sys.stderr)
        return 1
    ctx = data.get("context", {})
    print(f"host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs @ "
          f"{ctx.get('mhz_per_cpu', '?')} MHz, build: {ctx.get('library_build_type', '?')} "
          f"(benchmark library)")
    print(f"{'case':32} {'ns/roundtrip':>12} {'Mitems/s':>9}   {'baseline':28} {'ns':>7} {'ratio':>7}")
    missing = 0
    for name in sorted(cases):
        b = cases[name]
        ns = ns_per_roundtrip(b)
        descs = int(round(float(b.get("descs", 1))))
        base_name = f"{BASELINE}/{descs}"
        base = runs.get(base_name)
        items = float(b.get("items_per_second", 0.0)) / 1e6
        if base is None:
            print(f"{name:32} {ns:12.1f} {items:9.2f}   {base_name:28} {'-':>7} {'-':>7}")
            missing += 1
            continue
        bns = ns_per_roundtrip(base)
        print(f"{name:32} {ns:12.1f} {items:9.2f}   {base_name:28} {bns:7.1f} {ns / bns:6.1f}x")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
