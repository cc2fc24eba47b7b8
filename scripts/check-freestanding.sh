#!/usr/bin/env bash
# Cross-compiles the code that ships inside the Windows drivers with mingw-w64
# (-ffreestanding -fno-exceptions -fno-rtti, see cmake/AerovFreestanding.cmake)
# and checks that its objects need nothing a kernel driver cannot link: the
# only undefined symbols allowed are the memory intrinsics the compiler may
# emit, which the Windows kernel exports.
#   usage: check-freestanding.sh <i686|x86_64> <source-dir> <build-dir>
set -euo pipefail
arch=$1 src=$2 out=$3
nm=$arch-w64-mingw32-nm
command -v "$arch-w64-mingw32-g++" >/dev/null || { echo "missing $arch-w64-mingw32-g++ (run scripts/install-deps.sh)"; exit 1; }

cmake -S "$src" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAEROV_FREESTANDING_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchains/mingw-$arch.cmake" >"$out.configure.log" 2>&1 ||
  { cat "$out.configure.log"; exit 1; }
cmake --build "$out"

mapfile -t objects < <(find "$out" -name '*.obj' -o -name '*.o' | sort)
[ "${#objects[@]}" -gt 0 ] || { echo "no objects were built"; exit 1; }
# Undefined symbols not defined by another object of the set.
symbols() { "$nm" "$@" "${objects[@]}" | awk 'NF >= 2 {print $NF}' | sed 's/^_//' | sort -u; }
bad=$(comm -23 <(symbols -u) <(symbols --defined-only) |
      grep -vxE 'memcpy|memset|memmove|memcmp' || true)
if [ -n "$bad" ]; then
  echo "freestanding code ($arch) references symbols a kernel driver cannot link:"
  echo "$bad"
  exit 1
fi
echo "freestanding $arch: ${#objects[@]} objects, no hosted symbols"
