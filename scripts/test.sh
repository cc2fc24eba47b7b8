#!/usr/bin/env bash
# The whole test suite: set up, build, run every CTest test (unit, property,
# conformance, fuzz-corpus replay, freestanding cross-compile, benchmark
# smoke). With CI=true (or AEROV_FULL=1) also runs the suite under
# ASan+UBSan, the simulation's gcc-vs-clang determinism check and a short
# libFuzzer run of every target (FUZZ_SECONDS each, default 30 here: seven
# targets keep CI near half an hour; fuzz/run.sh alone defaults to 60).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

run_preset() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
  ctest --preset "$1" "${@:2}"
}

run_preset default
if [ "${CI:-}" = "true" ] || [ "${AEROV_FULL:-}" = "1" ]; then
  run_preset asan -LE interop  # interop (QEMU) runs in the default preset only
  scripts/sim-cross-compiler.sh
  FUZZ_SECONDS="${FUZZ_SECONDS:-30}" fuzz/run.sh
fi
