#!/usr/bin/env bash
# The whole test suite: set up, build, run every CTest test (unit, property,
# conformance, fuzz-corpus replay, freestanding cross-compile, benchmark
# smoke). With CI=true (or AEROV_FULL=1) also runs the suite under
# ASan+UBSan, the simulation's gcc-vs-clang determinism check and a short
# libFuzzer run (FUZZ_SECONDS, default 60).
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
  # The interop guests (label interop) boot QEMU; they test the default
  # build only.
  run_preset asan -LE interop
  scripts/sim-cross-compiler.sh
  fuzz/run.sh
fi
