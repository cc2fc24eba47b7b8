#!/usr/bin/env python3
"""Writes the seed corpus of virtio_caps_fuzz (fuzz/corpus/virtio_caps/):
the contract layout, QEMU's layout and a few malformed lists. Input format:
256 config bytes, then per BAR a le64 length and a flags byte."""
import os
import struct
import sys

VENDOR, MSIX = 0x09, 0x11
COMMON, NOTIFY, ISR, DEVICE, PCI_CFG = 1, 2, 3, 4, 5


def image(caps, first, bars, status=0x10):
    cfg = bytearray(256)
    cfg[0x06] = status
    cfg[0x34] = first
    for at, nxt, typ, bar, off, length, mult in caps:
        cap_len = 20 if typ == NOTIFY else 16
        cfg[at:at + 4] = bytes([VENDOR, nxt, cap_len, typ])
        cfg[at + 4] = bar
        cfg[at + 8:at + 16] = struct.pack("<II", off, length)
        if typ == NOTIFY:
            cfg[at + 16:at + 20] = struct.pack("<I", mult)
    tail = b"".join(struct.pack("<QB", length, flags) for length, flags in bars)
    return bytes(cfg) + tail


CONTRACT_CAPS = [(0x40, 0x50, COMMON, 0, 0x0, 0x100, 0), (0x50, 0x64, NOTIFY, 0, 0x1000, 0x100, 4),
                 (0x64, 0x74, ISR, 0, 0x2000, 0x20, 0), (0x74, 0x00, DEVICE, 0, 0x3000, 0x100, 0)]
BAR0_64 = [(0x4000, 3)] + [(0, 0)] * 5


def seeds():
    yield "contract_layout", image(CONTRACT_CAPS, 0x40, BAR0_64)
    qemu = [(0x84, 0x70, PCI_CFG, 0, 0, 0, 0), (0x70, 0x60, NOTIFY, 4, 0x3000, 0x1000, 4),
            (0x60, 0x50, DEVICE, 4, 0x2000, 0x1000, 0), (0x50, 0x40, ISR, 4, 0x1000, 0x1000, 0),
            (0x40, 0x00, COMMON, 4, 0x0, 0x1000, 0)]
    bars = [(0, 0), (0x1000, 1), (0, 0), (0, 0), (0x4000, 3), (0, 0)]
    q = bytearray(image(qemu, 0x98, bars))
    q[0x98:0x9A] = bytes([MSIX, 0x84])
    yield "qemu_layout", bytes(q)
    loop = [c if c[0] != 0x74 else (0x74, 0x40) + c[2:] for c in CONTRACT_CAPS]
    yield "loop_back_to_first", image(loop, 0x40, BAR0_64)
    yield "misaligned_pointer", image(CONTRACT_CAPS, 0x42, BAR0_64)
    yield "region_past_bar", image(CONTRACT_CAPS[:3] + [(0x74, 0, DEVICE, 0, 0x3F80, 0x100, 0)],
                                   0x40, BAR0_64)
    yield "missing_isr", image(CONTRACT_CAPS[:2] + CONTRACT_CAPS[3:], 0x40, BAR0_64)
    end = bytearray(image([], 0xFC, BAR0_64))
    end[0xFC:0x100] = bytes([VENDOR, 0, 16, COMMON])  # runs past config space
    yield "cap_at_end_of_config", bytes(end)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "virtio_caps"))
