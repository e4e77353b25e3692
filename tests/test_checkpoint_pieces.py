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
    stored, pieces, _ = chunked(_blob(data))
    assert wanted(stored, pieces) == set()
    assert assembled(stored, pieces).value.data == data


def test_a_growing_value_adds_a_few_pieces_per_step_and_the_list_of_names_is_itself_pieces() -> None:
    content = b"".join(f"message {n} ".encode() * 40 for n in range(2000))
    before, first, _ = chunked(_blob(b"\xdc\x07\xcf" + content))
    after, second, _ = chunked(_blob(b"\xdc\x07\xd0" + content + b"one more message " * 40))
    assert before.chunks[0] == INDIRECT and len(before.chunks) < 20
    new = set(second) - set(first)
    assert sum(len(second[name]) for name in new) < 3 * 2048 + 64 + 2 * 2048  # head, tail, new, two of names
    with pytest.raises(BackendError, match="misses"):
        assembled(after, first)


@settings(max_examples=80, deadline=None)
@given(common=st.integers(0, 40_000), before=st.integers(0, 20_000), after=st.integers(0, 20_000),
       head=st.binary(min_size=0, max_size=80), seed=st.binary(min_size=1, max_size=32))
def test_a_value_cut_after_its_previous_one_is_cut_as_if_alone(common: int, before: int, after: int, head: bytes,
                                                               seed: bytes) -> None:
    """Reusing the previous value's pieces (where the bytes are the same) names every piece as hashing would,
    whether the value grew, shrank, or changed in its head, in the middle or at the end."""
    text = (seed * (80_000 // len(seed) + 1))
    shared = text[:common]
    previous_data = b"\xdc\x00\x01" + shared + text[common + 7:common + 7 + before]
    data = b"\xdc\x00\x02" + head + shared + text[common + 11:common + 11 + after]
    _, _, cut = chunked(_blob(previous_data))
    reused = chunked(_blob(data), cut)
    alone = chunked(_blob(data))
    assert reused[0] == alone[0] and reused[1] == alone[1]
    assert assembled(reused[0], reused[1]).value.data == data


def test_a_grown_value_reuses_the_names_of_its_unchanged_pieces() -> None:
    content = b"".join(f"message {n} ".encode() * 40 for n in range(500))
    _, _, cut = chunked(_blob(b"\xdc\x01\xf4" + content))
    assert cut is not None
    grown = b"\xdc\x01\xf5" + content + b"one more message " * 40
    _, pieces, regrown = chunked(_blob(grown), cut)
    assert regrown is not None and regrown.names[1:-2] == cut.names[1:len(regrown.names) - 2]
    assert b"".join(pieces[name] for name in regrown.names) == grown
