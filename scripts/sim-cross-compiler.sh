#!/usr/bin/env bash
# Determinism across compilers: the same seed must give the same final
# state hash and trace hash whether the machine was built by gcc (`default`
# preset) or clang (`clang` preset). Builds `aero-virtio` in both (the
# default build is normally there already) and compares the summary lines.
set -euo pipefail
cd "$(dirname "$0")/.."

for preset in default clang; do
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" --target aero-virtio
done

status=0
for scenario in blk net input snd; do
  for seed in 1 7 1234; do  # seed 1 draws MSI-X (irq=msix3), 7 and 1234 INTx
    args=(sim --scenario "$scenario" --seed "$seed" --steps 500)
    gcc_line=$(build/default/cli/aero-virtio "${args[@]}")
    clang_line=$(build/clang/cli/aero-virtio "${args[@]}")
    if [ "$gcc_line" = "$clang_line" ]; then
      echo "same under gcc and clang: $gcc_line"
    else
      echo "FAIL determinism across compilers: aero-virtio ${args[*]}" >&2
      echo "  gcc:   $gcc_line" >&2
      echo "  clang: $clang_line" >&2
      status=1
    fi
  done
done
exit $status
