"""Key formats. Ids and symbols can never contain '#', and every prefix query ends in '#', so
USER#user_1# never matches USER#user_10#."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from alexdb.domain.capacity import SHARDS  # write shards of an index key that would carry a whole population

META = "METADATA"
INSTRUMENT_META = "META"
INSTRUMENT_PRICE = "PRICE"  # an instrument's current price, apart from META
INSTRUMENT_SPLITS = "SPLITS"  # an instrument's splits, one item
USER_DIRECTORY = "USERS"
ALL_INSTRUMENTS = "INSTRUMENTS"
HIGH = "~"  # sorts after every character used in keys: closes "up to and including" ranges


def user_pk(clerk_user_id: str) -> str:
    """Partition of a user: metadata, accounts and jobs."""
    return f"USER#{clerk_user_id}"


def account_pk(account_id: uuid.UUID | str) -> str:
    """Partition of an account: its metadata copy, current positions and their history."""
    return f"ACCOUNT#{account_id}"


def account_sk(account_id: uuid.UUID | str) -> str:
    """An account under its user."""
    return f"ACCOUNT#{account_id}"


def current_sk(symbol: str) -> str:
    """The current holding of a symbol."""
    return f"CURRENT#{symbol}"


def holders_pk(symbol: str) -> str:
    """HoldersIndex partition of a symbol: every account's CURRENT item of it, by last change."""
    return f"HOLDING#{symbol}"


def history_prefix(symbol: str) -> str:
    """All history of one symbol (note the closing '#')."""
    return f"HISTORY#{symbol}#"


def history_sk(symbol: str, at_text: str, version: int) -> str:
    """One change: the version makes two changes at one instant distinct and ordered."""
    return f"HISTORY#{symbol}#{at_text}#{version:012d}"


def job_sk(created_text: str, job_id: uuid.UUID | str) -> str:
    """A job under its user, newest last."""
    return f"JOB#{created_text}#{job_id}"


def job_pointer_pk(job_id: uuid.UUID | str) -> str:
    """The item that finds a job by id alone."""
    return f"JOB#{job_id}"


DELETING = "deleting"
"""Set on a user or account whose items are being deleted: from then on it reads as gone and takes no writes."""
LIVE = f"attribute_exists(PK) AND attribute_not_exists({DELETING})"
"""The condition that a user or account item exists and is not being deleted."""


def live_check(table: str, pk: str, sk: str) -> dict[str, Any]:
    """A transaction action that holds only while that user or account is live."""
    return {"ConditionCheck": {"TableName": table, "Key": {"PK": pk, "SK": sk}, "ConditionExpression": LIVE}}


def shard(identity: str) -> str:
    """A stable shard of an identity, 00 to 15 (a hash: ids that share a prefix still spread)."""
    return f"{int.from_bytes(hashlib.blake2b(identity.encode(), digest_size=4).digest(), 'big') % SHARDS:02d}"


def directory_keys(clerk_user_id: str) -> dict[str, str]:
    """The user directory's index keys of a user (Directory: DIRPK USERS#<nn>, DIRSK <id>)."""
    return {"DIRPK": f"{USER_DIRECTORY}#{shard(clerk_user_id)}", "DIRSK": clerk_user_id}


def directory_shards() -> list[str]:
    """Every partition of the user directory."""
    return [f"{USER_DIRECTORY}#{n:02d}" for n in range(SHARDS)]


def queue_pk(status: str, job_id: uuid.UUID | str) -> str:
    """The work queue's partition of a job: its status and its shard."""
    return f"JOBS#{status}#{shard(str(job_id))}"


def queue_shards(status: str) -> list[str]:
    """Every partition of the work queue of one status."""
    return [f"JOBS#{status}#{n:02d}" for n in range(SHARDS)]
