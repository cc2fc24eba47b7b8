#!/usr/bin/env python3
"""Ratio of each benchmark case to its baseline from the same run.

    build/default/bench/aerov_bench_virtqueue --benchmark_format=json \\
        --benchmark_repetitions=5 --benchmark_report_aggregates_only=true > bench.json
    python3 bench/compare.py bench.json        # or '-' for stdin

Virtqueue cases (aerov_bench_virtqueue) carry a `descs` counter (descriptors
moved per round trip) and are paired with Baseline_RawRingCopy/<descs>;
the ratio is case ns / baseline ns.

Blk stack cases (aerov_bench_blk_stack) carry a `request_bytes` counter and
are paired with Baseline_Memcpy/bytes:<request_bytes>; printed are
requests/s, GB/s (10^9 bytes/s) and the ratio case GB/s / memcpy GB/s (the
share of the machine's copy bandwidth the whole stack delivers).

Net stack cases (aerov_bench_net_stack) carry a `frame_bytes` counter and
are paired with Baseline_Memcpy/bytes:<frame_bytes>; printed are frames/s
(round trips), ns per frame and the ratio ns per frame / ns per memcpy of
one frame (how many bare copies of the frame one round trip costs).

Input stack cases (aerov_bench_input_stack) carry an `event_bytes` counter
and are paired with Baseline_Memcpy/bytes:<event_bytes>; printed are
events/s, ns per event and the ratio ns per event / ns per memcpy of one
event.

Simulation cases (aerov_bench_sim) carry `sim_events` or `replay_events`
and are paired with Baseline_EventQueue (an empty event's schedule + run)
or Baseline_TraceBytes/<scenario> (reading the replayed recording's bytes
once, the ceiling on its replay); printed are events/s of both and how
many times slower the case is than its floor.

Both numbers of a pair come from the same machine state. With repetitions
the median is used, else the single run. Exits 1 when the input has no cases
or a baseline is missing.
"""
import json
import sys

BASELINE = "Baseline_RawRingCopy"
MEMCPY = "Baseline_Memcpy"


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


def print_virtqueue(cases, runs):
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
    return missing


def print_blk(cases, runs):
    print(f"{'case':44} {'Mreq/s':>8} {'GB/s':>7}   {'baseline':30} {'GB/s':>7} {'ratio':>7}")
    missing = 0
    for name in sorted(cases):
        b = cases[name]
        req = float(b.get("requests_per_second", 0.0)) / 1e6
        gbs = float(b.get("bytes_per_second", 0.0)) / 1e9
        nbytes = int(round(float(b["request_bytes"])))
        base_name = f"{MEMCPY}/bytes:{nbytes}"
        base = runs.get(base_name)
        if base is None:
            print(f"{name:44} {req:8.3f} {gbs:7.2f}   {base_name:30} {'-':>7} {'-':>7}")
            missing += 1
            continue
        bgbs = float(base.get("bytes_per_second", 0.0)) / 1e9
        ratio = gbs / bgbs if bgbs > 0 else float("nan")
        print(f"{name:44} {req:8.3f} {gbs:7.2f}   {base_name:30} {bgbs:7.2f} {ratio:6.3f}x")
    return missing


def print_per_copy(cases, runs, rate, size, unit):
    """Cases paired with the memcpy of one item (`size` bytes): M<unit>s/s,
    ns per item and how many bare copies of the item one costs."""
    print(f"{'case':36} {'M' + unit + 's/s':>9} {'ns/' + unit:>9}   {'baseline':26} {'ns/copy':>8} {'ratio':>8}")
    missing = 0
    for name in sorted(cases):
        b = cases[name]
        ips = float(b.get(rate, 0.0))
        ns = 1e9 / ips if ips > 0 else float("nan")
        nbytes = int(round(float(b[size])))
        base_name = f"{MEMCPY}/bytes:{nbytes}"
        base = runs.get(base_name)
        if base is None:
            print(f"{name:36} {ips / 1e6:9.3f} {ns:9.1f}   {base_name:26} {'-':>8} {'-':>8}")
            missing += 1
            continue
        bps = float(base.get("bytes_per_second", 0.0))
        copy_ns = nbytes / bps * 1e9 if bps > 0 else float("nan")
        print(f"{name:36} {ips / 1e6:9.3f} {ns:9.1f}   {base_name:26} {copy_ns:8.2f} {ns / copy_ns:7.1f}x")
    return missing


def print_events(cases, runs):
    """B/event: the payload a simulated event moves, or the trace bytes a
    replayed one carries."""
    print(f"{'case':30} {'Mevents/s':>10} {'B/event':>8}   {'baseline':24} {'Mevents/s':>10} {'ratio':>8}")
    missing = 0
    for name in sorted(cases):
        b = cases[name]
        eps = float(b.get("events_per_second", 0.0))
        per = b.get("payload_bytes_per_event", b.get("bytes_per_event"))
        per = f"{float(per):8.0f}" if per is not None else f"{'-':>8}"
        if "sim_events" in b:
            base_name = "Baseline_EventQueue"
        else:
            base_name = "Baseline_TraceBytes/" + name.split("/")[1]
        base = runs.get(base_name)
        if base is None:
            print(f"{name:30} {eps / 1e6:10.3f} {per}   {base_name:24} {'-':>10} {'-':>8}")
            missing += 1
            continue
        beps = float(base.get("events_per_second", 0.0))
        ratio = beps / eps if eps > 0 else float("nan")
        print(f"{name:30} {eps / 1e6:10.3f} {per}   {base_name:24} {beps / 1e6:10.3f} {ratio:7.1f}x")
    read = runs.get("Baseline_TraceRead")
    if read is not None:
        print(f"Baseline_TraceRead: {float(read.get('events_per_second', 0.0)) / 1e6:.3f} Mevents/s "
              f"(parsing the net recording)")
    for size, where in ((16384, "L1/L2"), (4 << 20, "L3")):
        memcpy = runs.get(f"{MEMCPY}/bytes:{size}")
        if memcpy is not None:
            gbs = float(memcpy.get("bytes_per_second", 0.0)) / 1e9
            print(f"{MEMCPY}/bytes:{size}: {gbs:.1f} GB/s ({where}; one copy of an event's "
                  f"B/event takes B/event / {gbs:.1f} ns)")
    return missing


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    data = load(argv[1])
    failed = [b for b in data.get("benchmarks", []) if b.get("error_occurred")]
    for b in failed:
        print(f"compare.py: {b.get('name')} did not run: {b.get('error_message', '?')}",
              file=sys.stderr)
    if failed:
        return 1
    runs = pick(data.get("benchmarks", []))
    cases = {n: b for n, b in runs.items() if not n.startswith("Baseline_")}
    if not cases:
        print("compare.py: no benchmark cases in the input", file=sys.stderr)
        return 1
    blk = {n: b for n, b in cases.items() if "request_bytes" in b}
    net = {n: b for n, b in cases.items() if "frame_bytes" in b}
    inp = {n: b for n, b in cases.items() if "event_bytes" in b}
    ev = {n: b for n, b in cases.items() if "sim_events" in b or "replay_events" in b}
    vq = {n: b for n, b in cases.items() if n not in blk and n not in net and n not in ev and n not in inp}
    ctx = data.get("context", {})
    print(f"host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs @ "
          f"{ctx.get('mhz_per_cpu', '?')} MHz, build: {ctx.get('library_build_type', '?')} "
          f"(benchmark library)")
    missing = 0
    if vq:
        missing += print_virtqueue(vq, runs)
    if blk:
        missing += print_blk(blk, runs)
    if net:
        missing += print_per_copy(net, runs, "frames_per_second", "frame_bytes", "frame")
    if inp:
        missing += print_per_copy(inp, runs, "events_per_second", "event_bytes", "event")
    if ev:
        missing += print_events(ev, runs)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
