"""The command line the generated seed corpora share (make_blk_seed_corpus.py,
make_input_corpus.py): write the seeds, or --check that the committed ones
are what the generator makes and, with --replay, that each still reaches
the outcome it was written for (the `<prefix>` line of the target's
AEROV_FUZZ_TRACE=1 output). Files named regress_* are crashers added by
hand: replayed by the corpus test, never generated or removed here.
"""
import argparse
import os
import subprocess
import sys


def replay_outcome(binary, path, prefix):
    env = dict(os.environ, AEROV_FUZZ_TRACE="1")
    run = subprocess.run([binary, path], env=env, capture_output=True, text=True)
    if run.returncode != 0:
        return "replay failed (exit %d): %s" % (run.returncode, run.stderr.strip().splitlines()[-1:])
    for line in run.stderr.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):]
    return "no '%s' line in the trace" % prefix.strip()


def run(tool, description, seeds, expect, default_dir, prefix):
    """tool: the script's name for messages; seeds: name -> bytes; expect:
    name -> outcome text; returns the process exit code."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    ap.add_argument("--replay", help="with --check: the target's replay binary to confirm outcomes")
    ap.add_argument("dir", nargs="?", default=default_dir)
    args = ap.parse_args()
    if args.check:
        have = set(n for n in os.listdir(args.dir) if not n.startswith("regress_")) \
            if os.path.isdir(args.dir) else set()
        bad = sorted(have.symmetric_difference(seeds))
        for name, data in sorted(seeds.items()):
            path = os.path.join(args.dir, name)
            if name in have and open(path, "rb").read() != data:
                bad.append(name)
        if bad:
            print("%s: out of date: %s (run python3 fuzz/%s.py)" % (tool, ", ".join(bad), tool),
                  file=sys.stderr)
            return 1
        if args.replay:
            for name in sorted(seeds):
                got = replay_outcome(args.replay, os.path.join(args.dir, name), prefix)
                if got != expect.get(name):
                    bad.append("%s: got '%s', expected '%s'" % (name, got, expect.get(name)))
            if bad:
                print("%s: seeds missing their outcome:\n  %s" % (tool, "\n  ".join(bad)), file=sys.stderr)
                return 1
        print("%s: %d seeds up to date" % (tool, len(seeds)))
        return 0
    os.makedirs(args.dir, exist_ok=True)
    for name in os.listdir(args.dir):
        if name not in seeds and not name.startswith("regress_"):
            os.remove(os.path.join(args.dir, name))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(args.dir, name), "wb") as f:
            f.write(data)
    print("%s: wrote %d seeds to %s" % (tool, len(seeds), args.dir))
    return 0
