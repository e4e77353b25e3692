"""Time-ordered record ids (UUIDv7, RFC 9562): a key that sorts by id also sorts by creation."""

from __future__ import annotations

import os
import threading
import uuid

from alexdb.domain.instants import now_ms

_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, 74-bit sequence) of the last id handed out
_SEQUENCE_BITS = 74


def new_id() -> uuid.UUID:
    """A UUIDv7: 48-bit Unix milliseconds, version, then 74 bits; strictly increasing within this process.

    The 74 bits start random in each new millisecond and count up within one (or after a clock step
    back), so sort keys such as ACCOUNT#<id> list records in creation order.
    """
    global _last
    with _lock:
        millis = now_ms()
        if millis > _last[0]:
            # Top bit clear leaves 2^73 increments of headroom inside the millisecond.
            _last = (millis, int.from_bytes(os.urandom(10), "big") >> (80 - _SEQUENCE_BITS + 1))
        else:
            _last = (_last[0], _last[1] + 1)
        millis, sequence = _last
    value = millis << 80 | 0x7 << 76 | (sequence >> 62) << 64 | 0x2 << 62 | (sequence & (1 << 62) - 1)
    return uuid.UUID(int=value)
