"""Record ids are UUIDv7 and strictly increasing, as text too (DynamoDB sort keys rely on it)."""

from __future__ import annotations

import itertools
import threading
import uuid

from alexdb.domain.ids import new_id


def test_ids_are_version_7_and_strictly_increasing() -> None:
    ids = [new_id() for _ in range(50_000)]
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids[:100])
    assert all(a < b and str(a) < str(b) for a, b in itertools.pairwise(ids))


def test_ids_are_unique_across_threads() -> None:
    found: list[uuid.UUID] = []
    lock = threading.Lock()

    def make() -> None:
        mine = [new_id() for _ in range(5_000)]
        with lock:
            found.extend(mine)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 40_000
