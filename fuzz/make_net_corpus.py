#!/usr/bin/env python3
"""Writes the seed corpus for fuzz/net_fuzz.cpp into fuzz/corpus/net/.

Each seed is a short op script in the target's input format (see the comment
at the top of net_fuzz.cpp): a valid TX, a valid RX, and the hostile shapes
the unit tests cover (writable TX descriptor, short header, runt, oversize,
RX too small, readable RX descriptor, zero-length descriptors, loops,
indirect tables, avail.idx jumps, host-queue overflow, link toggling, reset
with chains held). Deterministic: running it twice gives the same bytes.

  make_net_corpus.py [OUT_DIR]      (default: corpus/net next to this file)
"""
import os
import struct
import sys

RX, TX = 0, 1
WRITE, NEXT, INDIRECT = 2, 1, 4
BUF_SEL, RAW_SEL = 0, 1
TABLE_GPA = 0x30000


def desc(q, index, addr, length, flags=0, nxt=0, sel=BUF_SEL):
    return struct.pack("<BBHBQIHH", 0, q, index, sel, addr, length, flags, nxt)


def avail(q, head):
    return struct.pack("<BBH", 1, q, head)


def avail_idx(q, idx):
    return struct.pack("<BBH", 2, q, idx)


def notify(q):
    return struct.pack("<BB", 3, q)


def deliver(length, seed=0):
    return struct.pack("<BHB", 4, length, seed & 0xFF)


def poke(offset, data):
    return struct.pack("<BIB", 5, offset, len(data)) + bytes(data)


def link(up):
    return struct.pack("<BB", 6, 1 if up else 0)


def reset(indirect=True):
    return struct.pack("<BB", 7, 1 if indirect else 0)


def table(entry, addr, length, flags=0, nxt=0, sel=BUF_SEL):
    return struct.pack("<BBBQIHH", 8, entry, sel, addr, length, flags, nxt)


def tx_chain(head, pieces):
    """pieces: list of (buffer offset, len, flags); NEXT links added."""
    out = b""
    for i, (off, ln, fl) in enumerate(pieces):
        last = i + 1 == len(pieces)
        out += desc(TX, head + i, off, ln, fl | (0 if last else NEXT), head + i + 1)
    return out + avail(TX, head) + notify(TX)


def rx_chain(head, pieces):
    out = b""
    for i, (off, ln, fl) in enumerate(pieces):
        last = i + 1 == len(pieces)
        out += desc(RX, head + i, off, ln, fl | (0 if last else NEXT), head + i + 1)
    return out + avail(RX, head) + notify(RX)


FRAME = poke(0, [0] * 10 + [0xFF] * 6 + [0x52, 0x54, 0, 0xAA, 0xBB, 0xCC, 0x88, 0xB5] + list(range(46)))

SEEDS = {
    "empty_input": b"",
    "tx_valid": FRAME + tx_chain(0, [(0, 10, 0), (10, 60, 0)]),
    "tx_one_descriptor": FRAME + tx_chain(0, [(0, 70, 0)]),
    "tx_writable_descriptor": FRAME + tx_chain(0, [(0, 70, 0), (0x1000, 16, WRITE)]),
    "tx_short_header": tx_chain(0, [(0, 8, 0)]),
    "tx_runt": tx_chain(0, [(0, 23, 0)]),
    "tx_oversize": tx_chain(0, [(0, 1533, 0)]),
    "tx_zero_length": FRAME + tx_chain(0, [(0, 10, 0), (0, 0, 0), (10, 60, 0), (0, 0, WRITE)]),
    "tx_loop": desc(TX, 0, 0, 70, NEXT, 0) + avail(TX, 0) + notify(TX),
    "tx_outside_memory": desc(TX, 0, 0xF000_0000_0000, 70, 0, 0, RAW_SEL) + avail(TX, 0) + notify(TX),
    "tx_avail_idx_jump": FRAME + tx_chain(0, [(0, 70, 0)]) + avail_idx(TX, 600) + notify(TX),
    "rx_valid": rx_chain(0, [(0x2000, 2048, WRITE)]) + deliver(60, 1),
    "rx_scattered": rx_chain(0, [(0x2000, 4, WRITE), (0x3000, 0, WRITE), (0x4000, 2000, WRITE)]) + deliver(1522),
    "rx_too_small_kept": rx_chain(0, [(0x2000, 40, WRITE)]) + deliver(60) + deliver(30),
    "rx_readable": deliver(60) + rx_chain(0, [(0x2000, 2048, 0)]) + rx_chain(1, [(0x3000, 2048, WRITE)]),
    "rx_bad_lengths": rx_chain(0, [(0x2000, 2048, WRITE)]) + deliver(13) + deliver(1523) + deliver(14),
    "rx_indirect": table(0, 0x2000, 5, WRITE | NEXT, 1) + table(1, 0x2005, 200, WRITE)
    + desc(RX, 0, TABLE_GPA, 32, INDIRECT, 0, RAW_SEL) + avail(RX, 0) + deliver(100) + notify(RX),
    "rx_into_used_ring": desc(RX, 0, 0x10000 + 4096 + 516 + 8, 2048, WRITE, 0, RAW_SEL)
    + avail(RX, 0) + deliver(200, 7),
    "rx_host_queue_overflow": b"".join(deliver(64, i) for i in range(300))
    + b"".join(rx_chain(i, [(0x2000 + 0x800 * (i % 16), 2048, WRITE)]) for i in range(40)),
    "link_toggle": link(False) + deliver(60) + FRAME + tx_chain(0, [(0, 70, 0)]) + link(True) + deliver(60),
    "reset_with_held_chain": rx_chain(0, [(0x2000, 20, WRITE)]) + deliver(60) + deliver(61) + reset(False)
    + rx_chain(0, [(0x2000, 2048, WRITE)]) + deliver(60),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "net")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()
