#!/usr/bin/env bash
# Builds the `fuzz` preset (clang, libFuzzer, ASan+UBSan) and, for every
# target (fuzz/CMakeLists.txt; or the names given as arguments), replays its
# seed corpus under libFuzzer, then fuzzes it for FUZZ_SECONDS (default 60)
# with a fixed seed (FUZZ_SEED) so a run is reproducible.
#
# New inputs go to a scratch directory, never into the committed corpus:
#   build/fuzz/new-corpus/<target>/   (recreated each run)
# Crashes, timeouts and OOMs go to build/fuzz/artifacts/ and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-20261125}
artifacts=build/fuzz/artifacts

cmake --preset fuzz >/dev/null
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < build/fuzz/fuzz/fuzz_targets.txt; fi
cmake --build --preset fuzz --target "${targets[@]/%/_fuzz}"

mkdir -p "$artifacts"
marker=$(mktemp build/fuzz/.run-start.XXXXXX)
trap 'rm -f "$marker"' EXIT

# halt_on_error: the first sanitizer report is the finding.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

fail() {
  echo "fuzz/run.sh: $1" >&2
  local found
  found=$(find "$artifacts" -type f -newer "$marker" 2>/dev/null || true)
  if [ -n "$found" ]; then
    echo "fuzz/run.sh: new artifacts:" >&2
    echo "$found" | sed 's/^/  /' >&2
    echo "fuzz/run.sh: reproduce with (any build; AEROV_FUZZ_TRACE=1 logs every step):" >&2
    echo "$found" | while read -r f; do
      echo "  $bin $f" >&2
      echo "  build/default/fuzz/${name}_fuzz_replay $f" >&2
    done
    echo "fuzz/run.sh: minimise: $bin -minimize_crash=1 -runs=100000 <artifact>;" \
         "after the fix copy it to $corpus/regress_<what> (see fuzz/README.md)" >&2
  fi
  exit 1
}

run_target() {
  name=$1
  corpus=fuzz/corpus/$name
  scratch=build/fuzz/new-corpus/$name
  log=build/fuzz/${name}_fuzz.log
  bin=build/fuzz/fuzz/${name}_fuzz
  rm -rf "$scratch"
  mkdir -p "$scratch"
  echo "== replaying $corpus ($(ls "$corpus" | wc -l) inputs) under libFuzzer"
  "$bin" -runs=0 -artifact_prefix="$artifacts/" "$corpus" 2>&1 | tee "$log.replay" |
    grep -E "INITED|DONE|ERROR|SUMMARY|invariant" || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || fail "corpus replay failed (log: $log.replay)"

  echo "== fuzzing for ${seconds}s, -seed=$seed (new inputs: $scratch)"
  set +e
  "$bin" -seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$scratch" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  grep -E "INITED|DONE|ERROR|SUMMARY|invariant|^stat::" "$log" || true
  [ "$rc" -eq 0 ] || fail "libFuzzer exited with $rc (log: $log)"
  if [ -n "$(find "$artifacts" -type f -newer "$marker")" ]; then
    fail "libFuzzer wrote artifacts (log: $log)"
  fi
  echo "== clean: $(ls "$scratch" | wc -l) new inputs in $scratch (not added to $corpus)"
}

for t in "${targets[@]}"; do
  [ -n "$t" ] && run_target "$t"
done
