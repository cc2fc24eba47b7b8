#!/usr/bin/env python3
"""Writes the seed corpus for fuzz/input_fuzz.cpp into fuzz/corpus/input/.

Each seed is a function byte (0 keyboard, 1 mouse, 2 tablet) and a short op
script in the target's input format (see the comment at the top of
input_fuzz.cpp): events into good buffers, the hostile eventq shapes the unit
tests cover (too small, readable, zero-length, loop, outside memory, avail.idx
jump), statusq LED updates and garbage, every config selector, the backlog
overflow, raw batches and a reset with events waiting. Deterministic: running
it twice gives the same bytes.

  make_input_corpus.py [OUT_DIR]      (default: corpus/input next to this file)
  make_input_corpus.py --check [--replay BIN] DIR

--check fails when a committed seed differs from what this script makes;
with --replay (the input_fuzz_replay binary) it also runs every seed with
AEROV_FUZZ_TRACE=1 and fails when a seed no longer reaches the outcome it
was written for (the device counters of the trace's `outcome:` line).
"""
import os
import struct
import sys

import seed_corpus

EVQ, STQ = 0, 1
NEXT, WRITE = 1, 2
BUF_SEL, RAW_SEL = 0, 1
KEYBOARD, MOUSE, TABLET = 0, 1, 2
KEY_A, KEY_LEFTSHIFT, BTN_LEFT, BTN_TOUCH = 30, 42, 0x110, 0x14A
EV_SYN, EV_KEY, EV_REL, EV_ABS, EV_LED = 0, 1, 2, 3, 0x11


def desc(q, index, addr, length, flags=0, nxt=0, sel=BUF_SEL):
    return struct.pack("<BBHBQIHH", 0, q, index, sel, addr, length, flags, nxt)


def avail(q, head):
    return struct.pack("<BBH", 1, q, head)


def avail_idx(q, idx):
    return struct.pack("<BBH", 2, q, idx)


def notify(q):
    return struct.pack("<BB", 3, q)


def key(code, pressed=True):
    return struct.pack("<BHB", 4, code, 1 if pressed else 0)


def move(a, b):
    return struct.pack("<Bii", 5, a, b)


def inject(events):
    return struct.pack("<BB", 6, len(events)) + b"".join(struct.pack("<HHI", t, c, v & 0xFFFFFFFF) for t, c, v in events)


def select(sel, subsel):
    return struct.pack("<BBB", 7, sel, subsel)


def poke(offset, data):
    return struct.pack("<BIB", 8, offset, len(data)) + bytes(data)


def reset(indirect=True):
    return struct.pack("<BB", 9, 1 if indirect else 0)


def cfg_write(offset, width_log2, value):
    return struct.pack("<BBBQ", 10, offset, width_log2, value)


def chain(q, head, pieces):
    """pieces: list of (buffer offset, len, flags); NEXT links added."""
    out = b""
    for i, (off, ln, fl) in enumerate(pieces):
        last = i + 1 == len(pieces)
        out += desc(q, head + i, off, ln, fl | (0 if last else NEXT), head + i + 1)
    return out + avail(q, head) + notify(q)


def event_buffers(count, first=0):
    return b"".join(chain(EVQ, first + i, [(0x1000 + 16 * i, 8, WRITE)]) for i in range(count))


def led_bytes(leds):
    out = b""
    for led in range(5):
        out += struct.pack("<HHI", EV_LED, led, (leds >> led) & 1)
    return out + struct.pack("<HHI", EV_SYN, 0, 0)


SEEDS = {
    "empty_input": b"",
    "keyboard_keys": bytes([KEYBOARD]) + event_buffers(8) + key(KEY_LEFTSHIFT) + key(KEY_A) + key(KEY_A, False),
    "keyboard_refused_code": bytes([KEYBOARD]) + event_buffers(4) + key(BTN_LEFT) + key(0x2FF) + move(1, 1),
    "mouse_moves": bytes([MOUSE]) + event_buffers(16) + move(5, -3) + move(0, 0) + key(BTN_LEFT),
    "tablet_positions": bytes([TABLET]) + event_buffers(16) + move(-5000, 99999) + key(BTN_TOUCH),
    "event_too_small": bytes([KEYBOARD]) + key(KEY_A) + chain(EVQ, 0, [(0x1000, 4, WRITE), (0x1004, 3, WRITE)])
    + event_buffers(2, 4),
    "event_readable": bytes([KEYBOARD]) + key(KEY_A) + chain(EVQ, 0, [(0x1000, 8, 0), (0x1008, 8, WRITE)])
    + event_buffers(2, 4),
    "event_zero_length": bytes([MOUSE]) + move(1, 2) + chain(EVQ, 0, [(0, 0, WRITE), (0x1000, 2, WRITE), (0x1002, 6, WRITE)]),
    "event_loop": bytes([KEYBOARD]) + key(KEY_A) + desc(EVQ, 3, 0x1000, 8, WRITE | NEXT, 3) + avail(EVQ, 3) + notify(EVQ),
    "event_outside_memory": bytes([KEYBOARD]) + key(KEY_A) + desc(EVQ, 0, 0xF000_0000_0000, 8, WRITE, 0, RAW_SEL)
    + avail(EVQ, 0) + notify(EVQ),
    "event_into_used_ring": bytes([MOUSE]) + move(7, 7) + desc(EVQ, 0, 0x10000 + 1024 + 134, 8, WRITE, 0, RAW_SEL)
    + avail(EVQ, 0) + notify(EVQ),
    "eventq_avail_idx_jump": bytes([KEYBOARD]) + event_buffers(2) + avail_idx(EVQ, 600) + key(KEY_A),
    "statusq_leds": bytes([KEYBOARD]) + poke(0x8000, led_bytes(0x3)) + chain(STQ, 0, [(0x8000, 48, 0)]),
    "statusq_garbage": bytes([KEYBOARD]) + poke(0x8000, bytes(range(37))) + chain(STQ, 0, [(0x8000, 37, 0)])
    + chain(STQ, 1, [(0x8000, 8, WRITE)]) + chain(STQ, 2, [(0x8000, 0x4000, 0)]),
    "statusq_loop": bytes([KEYBOARD]) + desc(STQ, 5, 0x8000, 8, NEXT, 5) + avail(STQ, 5) + notify(STQ),
    "statusq_avail_idx_jump": bytes([MOUSE]) + avail_idx(STQ, 300) + notify(STQ),
    "config_selectors": bytes([TABLET]) + b"".join(select(s, sub) for s in (0, 1, 2, 3, 0x10, 0x11, 0x12, 0xFF)
                                                 for sub in (0, 1, 3, 0x11, 0xFF)),
    "config_writes": bytes([KEYBOARD]) + cfg_write(0, 3, 0x1111_2222_0000_0111) + select(0x11, 1)
    + cfg_write(2, 2, 0xFFFF_FFFF) + cfg_write(0xFF, 3, 0x1234) + select(0x11, 0x11),
    # 70 batches of 63 keys + SYN_REPORT: 4480 events, past the 4096 cap.
    "backlog_overflow": bytes([KEYBOARD]) + b"".join(inject([(EV_KEY, KEY_A, i % 2)] * 63) for i in range(70))
    + event_buffers(32),
    "raw_batches": bytes([MOUSE]) + event_buffers(8) + inject([(EV_REL, 0, -1), (EV_REL, 8, 1)])
    + inject([(EV_SYN, 0, 0)]) + inject([(EV_KEY, BTN_LEFT, 2), (EV_LED, 1, 1)]),
    "reset_with_events_waiting": bytes([KEYBOARD]) + key(KEY_A) + key(KEY_A, False) + reset(False) + event_buffers(4)
    + key(KEY_LEFTSHIFT),
}


COUNTERS = ("queued", "delivered", "dropped", "refused", "too_small", "readable", "chain_error",
            "status", "leds", "ignored", "bad", "malformed", "oversize", "needs_reset")


def outcome(**nonzero):
    """The trace's outcome line: every counter, 0 unless given."""
    assert set(nonzero) <= set(COUNTERS), nonzero
    return " ".join(f"{c}={nonzero.get(c, 0)}" for c in COUNTERS)


# What each seed is for, as the device counts it.
EXPECT = {
    "backlog_overflow": outcome(queued=4480, delivered=32, dropped=384),
    "config_selectors": outcome(),
    "config_writes": outcome(),
    "empty_input": outcome(),
    "event_into_used_ring": outcome(queued=6, delivered=1),
    "event_loop": outcome(queued=2, chain_error=1),
    "event_outside_memory": outcome(queued=2, chain_error=1),
    "event_readable": outcome(queued=2, delivered=2, readable=1),
    "event_too_small": outcome(queued=2, delivered=2, too_small=1),
    "event_zero_length": outcome(queued=6, delivered=1),
    "eventq_avail_idx_jump": outcome(queued=2, needs_reset=1),
    "keyboard_keys": outcome(queued=6, delivered=6),
    "keyboard_refused_code": outcome(refused=4),
    "mouse_moves": outcome(queued=8, delivered=8),
    "raw_batches": outcome(queued=3, delivered=3, refused=2),
    "reset_with_events_waiting": outcome(queued=6, delivered=2),
    "statusq_avail_idx_jump": outcome(needs_reset=1),
    "statusq_garbage": outcome(status=3, ignored=9, bad=1, malformed=1, oversize=1),
    "statusq_leds": outcome(status=1, leds=5),
    "statusq_loop": outcome(status=1, malformed=1),
    "tablet_positions": outcome(queued=5, delivered=5),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    return seed_corpus.run("make_input_corpus", __doc__.splitlines()[0], SEEDS, EXPECT,
                           os.path.join(here, "corpus", "input"), "outcome: ")


if __name__ == "__main__":
    sys.exit(main())
