#!/usr/bin/env bash
# The main job: set up, build, and run the conformance checks against the
# built-in models, printing the contract rule table. Reports (JSON, JUnit)
# go to build/default/reports/. Extra arguments go to `aero-virtio conform`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target aero-virtio
mkdir -p build/default/reports
exec build/default/cli/aero-virtio conform \
  --json build/default/reports/conformance.json \
  --junit build/default/reports/conformance.junit.xml "$@"
