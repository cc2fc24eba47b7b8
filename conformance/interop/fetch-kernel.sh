#!/usr/bin/env bash
# Fetches Debian's kernel package (the one linux-image-amd64 depends on) with
# apt-get download and unpacks it with dpkg-deb -x into DEST, so nothing lands
# in /boot and the host's own kernel is untouched. Prints the unpacked root.
# Exit 77 (CTest skip) when the package cannot be had.
set -euo pipefail
dest=${1:?usage: fetch-kernel.sh DEST}
mkdir -p "$dest"
if ls "$dest"/root/boot/vmlinuz-* >/dev/null 2>&1; then
  echo "$dest/root"; exit 0
fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$pkg" ]; then
  apt-get update -q >/dev/null 2>&1 || true
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
fi
if [ -z "$pkg" ]; then
  echo "fetch-kernel: linux-image-amd64 is not known to apt" >&2; exit 77
fi
(cd "$dest" && rm -f ./*.deb && apt-get download -q "$pkg" >/dev/null 2>&1) || {
  echo "fetch-kernel: apt-get download $pkg failed" >&2; exit 77; }
rm -rf "$dest/root.tmp"
dpkg-deb -x "$dest"/"$pkg"_*.deb "$dest/root.tmp"
rm -f "$dest"/*.deb
mv "$dest/root.tmp" "$dest/root"
echo "$dest/root"
