"""Chunked checkpoint values: whole again from their pieces, and a value that grows shares its pieces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexdb.domain.checkpoints import INDIRECT, BlobRow, Typed, assembled, chunked, wanted
from alexdb.domain.errors import BackendError


def _blob(data: bytes) -> BlobRow:
    return BlobRow("thread", "", "messages", "1", Typed("msgpack", data))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 300_000), seed=st.binary(min_size=1, max_size=64))
def test_a_value_comes_back_whole_from_its_pieces(size: int, seed: bytes) -> None:
    data = (seed * (size // len(seed) + 1))[:size]
    stored, pieces = chunked(_blob(data))
    assert wanted(stored, pieces) == set()
    assert assembled(stored, pieces).value.data == data


def test_a_growing_value_adds_a_few_pieces_per_step_and_the_list_of_names_is_itself_pieces() -> None:
    content = b"".join(f"message {n} ".encode() * 40 for n in range(2000))
    before, first = chunked(_blob(b"\xdc\x07\xcf" + content))
    after, second = chunked(_blob(b"\xdc\x07\xd0" + content + b"one more message " * 40))
    assert before.chunks[0] == INDIRECT and len(before.chunks) < 20
    new = set(second) - set(first)
    assert sum(len(second[name]) for name in new) < 3 * 2048 + 64 + 2 * 2048  # head, tail, new, two of names
    with pytest.raises(BackendError, match="misses"):
        assembled(after, first)
