#!/usr/bin/env python3
"""Writes the seed corpus for fuzz/vhost_user_fuzz.cpp into fuzz/corpus/vhost_user/.

Each seed is an op script in the target's input format (see the comment at
the top of vhost_user_fuzz.cpp): QEMU's start sequence for a vhost-user-blk
ring followed by a READ request in guest RAM and its kick, the same with a
ring restart at GET_VRING_BASE and a new memory table, and the malformed
shapes the unit tests cover (short payloads, unknown requests, bad memory
tables, rings outside the table, out-of-range config reads, REPLY_ACK).
Deterministic: running it twice gives the same bytes.

  make_vhost_user_corpus.py [OUT_DIR]       (default: corpus/vhost_user next to this file)
  make_vhost_user_corpus.py --check [OUT_DIR]
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_corpus  # noqa: E402

GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL = 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
GET_CONFIG, SET_CONFIG = 24, 25
NEED_REPLY = 8
USER = 0x7F0000000000  # the front-end's address of guest RAM
VERSION_1, PROTOCOL_FEATURES, INDIRECT = 1 << 32, 1 << 30, 1 << 28
BLK_FEATURES = VERSION_1 | INDIRECT | (1 << 2) | (1 << 6) | (1 << 9)
DESC, AVAIL, USED = 0x1000, 0x1100, 0x1200
NUM = 8


def msg(request, payload=b"", nfds=0, flags=0):
    return struct.pack("<BBBBH", 0, request, flags, nfds, len(payload)) + payload


def poke(offset, data):
    return struct.pack("<BIH", 1, offset, len(data)) + data


def kick(ring=0):
    return struct.pack("<BB", 2, ring)


def u64(v):
    return struct.pack("<Q", v)


def state(index, num):
    return struct.pack("<II", index, num)


def mem_table(regions):
    out = struct.pack("<II", len(regions), 0)
    for gpa, size, user, off in regions:
        out += struct.pack("<QQQQ", gpa, size, user, off)
    return out


def vring_addr(index, desc, used, avail):
    return struct.pack("<IIQQQQ", index, 0, USER + desc, USER + used, USER + avail, 0)


def start_ring():
    return (msg(GET_FEATURES) + msg(SET_FEATURES, u64(BLK_FEATURES | PROTOCOL_FEATURES))
            + msg(GET_PROTOCOL_FEATURES) + msg(SET_PROTOCOL_FEATURES, u64((1 << 3) | (1 << 9)))
            + msg(SET_OWNER) + msg(SET_MEM_TABLE, mem_table([(0, 1 << 20, USER, 0)]), 1)
            + msg(SET_VRING_NUM, state(0, NUM)) + msg(SET_VRING_BASE, state(0, 0))
            + msg(SET_VRING_ADDR, vring_addr(0, DESC, USED, AVAIL))
            + msg(SET_VRING_CALL, u64(0), 1) + msg(SET_VRING_KICK, u64(0), 1)
            + msg(SET_VRING_ENABLE, state(0, 1)))


def read_request(head=0, avail_idx=1, sector=0):
    # header 0x2000 (IN), 512 data bytes at 0x3000 (writable), status at 0x4000
    hdr = poke(0x2000, struct.pack("<IIQ", 0, 0, sector))
    descs = struct.pack("<QIHH", 0x2000, 16, 1, 1) + struct.pack("<QIHH", 0x3000, 512, 3, 2) \
        + struct.pack("<QIHH", 0x4000, 1, 2, 0)
    ring = poke(DESC + 16 * head, descs)
    av = poke(AVAIL, struct.pack("<HH", 0, avail_idx) + struct.pack("<H", head))
    return hdr + ring + av + kick(0)


SEEDS = {
    "start-and-read": start_ring() + read_request(),
    "restart-at-base": start_ring() + read_request() + msg(GET_VRING_BASE, state(0, 0))
    + msg(SET_MEM_TABLE, mem_table([(0, 1 << 19, USER, 0), (1 << 19, 1 << 19, USER + (1 << 19), 1 << 19)]), 2)
    + msg(SET_VRING_BASE, state(0, 1)) + msg(SET_VRING_ADDR, vring_addr(0, DESC, USED, AVAIL))
    + msg(SET_VRING_KICK, u64(0), 1) + read_request(avail_idx=2),
    "config": msg(SET_PROTOCOL_FEATURES, u64(1 << 9)) + msg(GET_CONFIG, struct.pack("<III", 0, 60, 0) + bytes(60))
    + msg(GET_CONFIG, struct.pack("<III", 250, 60, 0) + bytes(60)) + msg(SET_CONFIG, struct.pack("<III", 0, 4, 0) + bytes(4)),
    "bad-mem-tables": msg(SET_MEM_TABLE, mem_table([])) + msg(SET_MEM_TABLE, mem_table([(0, 1 << 21, USER, 0)]), 1)
    + msg(SET_MEM_TABLE, mem_table([(0, 4096, USER, 0), (0, 4096, USER + 4096, 0)]), 2)
    + msg(SET_MEM_TABLE, mem_table([(0, 4096, USER, 0)]), 0) + msg(SET_MEM_TABLE, b"\x01"),
    "ring-outside-table": msg(SET_FEATURES, u64(BLK_FEATURES)) + msg(SET_MEM_TABLE, mem_table([(0, 1 << 16, USER, 0)]), 1)
    + msg(SET_VRING_NUM, state(0, 256)) + msg(SET_VRING_ADDR, vring_addr(0, 1 << 20, 2 << 20, 3 << 20))
    + msg(SET_VRING_KICK, u64(0), 1) + msg(SET_VRING_NUM, state(9, 8)) + msg(SET_VRING_NUM, state(0, 3)),
    "malformed": msg(SET_FEATURES, b"\x01\x02") + msg(99) + msg(GET_QUEUE_NUM, flags=NEED_REPLY)
    + msg(SET_VRING_BASE, b"", flags=NEED_REPLY) + msg(RESET_OWNER) + msg(SET_VRING_CALL, u64(0x100), 0),
    "hangup-mid-ring": start_ring() + struct.pack("<B", 4) + read_request() + struct.pack("<B", 3),
}

# What each seed must still reach (the target's "outcome:" trace line).
EXPECT = {
    "start-and-read": "1 requests served, 0 messages refused",
    "restart-at-base": "2 requests served, 0 messages refused",
    "config": "0 requests served, 1 messages refused",
    "bad-mem-tables": "0 requests served, 5 messages refused",
    "ring-outside-table": "0 requests served, 4 messages refused",
    "malformed": "0 requests served, 3 messages refused",
    "hangup-mid-ring": "0 requests served, 0 messages refused",
}

if __name__ == "__main__":
    sys.exit(seed_corpus.run("make_vhost_user_corpus", __doc__.splitlines()[0], SEEDS, EXPECT,
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "vhost_user"),
                             "outcome: "))
