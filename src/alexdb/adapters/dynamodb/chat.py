"""Conversation memory on DynamoDB (seed 003's chat_sessions table).

SESSION#<id> / METADATA holds the session (with UserSessionsIndex keys GSI1PK USER#<user>, GSI1SK
last_accessed); SESSION#<id> / MESSAGE#<seq>#<part> holds a message, split into parts when its content
exceeds one item. A message and the session's counters change in one transaction conditioned on the
sequence number read, so concurrent writers never overwrite each other and order is total.

Recency is coalesced: an append moves the session's UserSessionsIndex key (GSI1SK) when it is more than
RECENCY_STEP old, or when another session of the user is ahead of it in the index (one Query of one key,
eventually consistent); so a conversation moves its key about once a minute, not on every message, and
sessions still list most recently active first (to within the index's propagation delay).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.codec import dump
from alexdb.adapters.dynamodb.paging import query_rows
from alexdb.domain.chat import ChatMessage, ChatSession, NewMessage, SessionStats, read_parts, stored_parts
from alexdb.domain.errors import BackendError
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.paging import Bookmark
from alexdb.ports import Rows

META = "METADATA"
PART_BYTES = 300_000  # under the 400 KB item limit with room for the other attributes
HIGH = "~"
RECENCY_STEP = timedelta(seconds=60)
TRANSACTION_ITEMS, TRANSACTION_BYTES = 100, 3_500_000  # TransactWriteItems: 100 actions, 4 MB
CLAIM_FOR = timedelta(minutes=2)  # how long a staged batch holds its seqs; a dead writer's claim lapses
UNCLAIMED = "(attribute_not_exists(claim_until) OR claim_until < :live)"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _message_sk(seq: int, part: int = 0) -> str:
    return f"MESSAGE#{seq:012d}#{part:03d}"


def _through(seq: int) -> str:
    """The upper bound of a key range that includes every part of message seq."""
    return f"MESSAGE#{seq:012d}#{HIGH}"


def _claimed(meta: dict[str, Any], now: datetime) -> bool:
    return "claim_until" in meta and bool(meta["claim_until"] > instant_text(now))


def _size(item: dict[str, Any]) -> int:
    """An item's size, from above (its body plus room for the other attributes)."""
    body = item["content"]
    return len(body.encode("utf-8") if isinstance(body, str) else body) + 1024


def _message_items(pk: str, message: ChatMessage, ttl: int) -> list[dict[str, Any]]:
    """A message as items: one, or parts of PART_BYTES when its body is larger.

    The body is the content, or with structured parts the JSON [content, parts] ("packed").
    """
    parts_text = stored_parts(message)
    body = message.content if parts_text is None else json.dumps([message.content, parts_text])
    data = body.encode("utf-8")
    chunks = [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)] or [b""]
    base = {"PK": pk, "role": message.role, "tokens": message.tokens, "context_ids": message.context_ids,
            "created_at": instant_text(message.created_at), "seq": message.seq, "ttl": ttl,
            "parts": len(chunks), "packed": parts_text is not None}
    # One chunk is stored as text; a larger body as binary chunks (a split may cut a character).
    return [{**base, "SK": _message_sk(message.seq, number), "content": body if len(chunks) == 1 else chunk}
            for number, chunk in enumerate(chunks)]


def _session(item: dict[str, Any]) -> ChatSession:
    return ChatSession.model_validate({name: item[name] for name in ChatSession.model_fields if name in item})


class DynamoChat:
    """ChatRecords on DynamoDB: SESSION#<id> / METADATA and SESSION#<id> / MESSAGE#<seq>#<part>."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def _live(self, session_id: uuid.UUID, user_id: str, now: datetime) -> dict[str, Any] | None:
        item = self._dynamo.get(self._table, {"PK": f"SESSION#{session_id}", "SK": META})
        # Expired sessions are gone for readers at once, whenever DynamoDB's TTL sweep gets to them.
        if item is None or item["user_id"] != user_id or item["expires_at"] <= instant_text(now):
            return None
        return item

    def insert_session(self, session: ChatSession) -> bool:
        """A conditional put: creating never overwrites an existing session."""
        now, ttl = session.created_at, session.expires_at - session.created_at
        item = dump(session, PK=f"SESSION#{session.id}", SK=META, GSI1PK=f"USER#{session.user_id}",
                    GSI1SK=instant_text(now), last_seq=0, ttl=_epoch(session.expires_at),
                    messages_ttl=_epoch(now + 2 * ttl))
        return self._dynamo.put_if(self._table, item, "attribute_not_exists(PK)")

    def live_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> ChatSession | None:
        """The user's live session, or None (one GetItem)."""
        item = self._live(session_id, user_id, now)
        return None if item is None else _session(item)

    def _moves(self, meta: dict[str, Any], now: datetime) -> bool:
        """Whether an append at now moves the session's index key (see the module)."""
        if meta.get("GSI1SK", "") < instant_text(now - RECENCY_STEP):
            return True
        newest, _ = self._dynamo.query_page(
            self._table, 1, None, IndexName="UserSessionsIndex", ScanIndexForward=False,
            KeyConditionExpression="GSI1PK = :pk", ExpressionAttributeValues={":pk": meta["GSI1PK"]},
            ProjectionExpression="PK")
        return not newest or newest[0]["PK"] != meta["PK"]

    def _activity(self, now: datetime, ttl: timedelta, move: bool = True) -> tuple[str, dict[str, Any]]:
        """The SET clause and values that record activity (and move the expiry) at now, and the index key
        unless move is False."""
        return ("#la = :now, expires_at = :exp, #ttl = :ttl" + (", GSI1SK = :now" if move else ""),
                {":now": instant_text(now), ":exp": instant_text(now + ttl), ":ttl": _epoch(now + ttl)})

    def append(self, session_id: uuid.UUID, user_id: str, messages: list[NewMessage], now: datetime,
               ttl: timedelta) -> list[ChatMessage] | None:
        """The messages and the session's counters and activity: one transaction conditioned on last_seq,
        or, past one transaction's limits, staged under a claim and committed by one update (_staged)."""
        for attempt in self._dynamo.retry.rounds():
            meta = self._live(session_id, user_id, now)
            if meta is None:
                return None
            if _claimed(meta, utcnow()):  # a large batch is being staged: its seqs are taken
                self._dynamo.retry.sleep(min(attempt, 6))
                continue
            first = int(meta["last_seq"]) + 1
            messages_ttl = int(meta["messages_ttl"])
            refresh = messages_ttl < _epoch(now + ttl * 1.5)
            if refresh:
                messages_ttl = _epoch(now + 2 * ttl)
            stored = [ChatMessage(session_id=session_id, seq=first + n, created_at=now, **m.model_dump())
                      for n, m in enumerate(messages)]
            items = [item for message in stored for item in _message_items(meta["PK"], message, messages_ttl)]
            update = self._commit(meta, now, ttl, stored, messages_ttl)
            if len(items) < TRANSACTION_ITEMS and sum(_size(i) for i in items) < TRANSACTION_BYTES:
                # Unconditional: the update's condition makes the seqs this transaction's alone, and an
                # item already there is a dead staged batch's, never visible (readers stop at last_seq).
                puts = [{"Put": {"TableName": self._table, "Item": item}} for item in items]
                update["ConditionExpression"] += " AND " + UNCLAIMED
                update["ExpressionAttributeValues"][":live"] = instant_text(utcnow())
                committed = self._dynamo.transact_if([{"Update": update}, *puts])
            else:
                committed = self._staged(meta, update, items)
            if not committed:
                self._dynamo.retry.sleep(min(attempt, 6))
                continue
            if refresh:
                self._refresh_message_ttl(meta["PK"], messages_ttl, first + len(stored) - 1)
            return stored
        raise BackendError(f"chat session {session_id}: too much contention, gave up")

    def _commit(self, meta: dict[str, Any], now: datetime, ttl: timedelta, stored: list[ChatMessage],
                messages_ttl: int) -> dict[str, Any]:
        """The session update that makes messages visible: last_seq moves past them (readers stop at it)."""
        activity, values = self._activity(now, ttl, self._moves(meta, now))
        return {"TableName": self._table, "Key": {"PK": meta["PK"], "SK": META},
                "UpdateExpression": f"SET {activity}, last_seq = :seq, messages_ttl = :mttl "
                                    "ADD message_count :count, total_tokens :tokens",
                # Conditional on the sequence read: a concurrent append makes this one retry, never overwrite.
                "ConditionExpression": "last_seq = :expected AND user_id = :user",
                "ExpressionAttributeNames": {"#la": "last_accessed", "#ttl": "ttl"},
                "ExpressionAttributeValues": {**values, ":seq": stored[-1].seq, ":expected": stored[0].seq - 1,
                                              ":user": meta["user_id"], ":count": len(stored),
                                              ":tokens": sum(m.tokens or 0 for m in stored), ":mttl": messages_ttl}}

    def _staged(self, meta: dict[str, Any], update: dict[str, Any], items: list[dict[str, Any]]) -> bool:
        """A batch past one transaction's 100 items or 4 MB, still all or nothing for readers.

        Claim the seqs after last_seq (a conditional update: no other writer holds or takes them), write
        the items (over any left by a writer that died holding a lapsed claim: the seqs are ours now), then
        commit: last_seq moves past them and the claim goes, conditioned on still holding it. Readers stop
        at last_seq, so until the commit they see none of the batch; if this writer dies, never any.
        """
        token, now = str(uuid.uuid4()), utcnow()
        claimed = self._dynamo.update_if(
            self._table, {"PK": meta["PK"], "SK": META}, "SET claim = :token, claim_until = :until", {},
            {":token": token, ":until": instant_text(now + CLAIM_FOR), ":live": instant_text(now),
             ":expected": update["ExpressionAttributeValues"][":expected"]},
            f"last_seq = :expected AND {UNCLAIMED}")
        if claimed is None:
            return False
        self._dynamo.batch_write(self._table, puts=items)
        update["UpdateExpression"] += " REMOVE claim, claim_until"
        update["ConditionExpression"] += " AND claim = :token"
        update["ExpressionAttributeValues"][":token"] = token
        if not self._dynamo.transact_if([{"Update": update}]):
            raise BackendError(f"{meta['PK']}: a batch of {len(items)} items outlived its claim; none of it "
                               "is visible: send it again")
        return True

    def _refresh_message_ttl(self, pk: str, ttl: int, upto: int) -> None:
        """Move every message's TTL past the session's; amortised: runs once per half window of activity."""
        for item in self._dynamo.query(self._table, ProjectionExpression="PK, SK",
                                       KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
                                       ExpressionAttributeValues={":pk": pk, ":low": "MESSAGE#",
                                                                  ":high": _through(upto)}):
            # A message truncated meanwhile fails the condition and is left alone.
            self._dynamo.update_if(self._table, {"PK": item["PK"], "SK": item["SK"]}, "SET #ttl = :ttl",
                                   {"#ttl": "ttl"}, {":ttl": ttl}, "attribute_exists(PK)")

    def _messages(self, pk: str, low: str, high: str, newest_first: bool, limit: int | None) -> list[ChatMessage]:
        parts: dict[int, list[dict[str, Any]]] = {}
        for item in self._dynamo.query(self._table, ConsistentRead=True, ScanIndexForward=not newest_first,
                                       KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
                                       ExpressionAttributeValues={":pk": pk, ":low": low, ":high": high}):
            seq = int(item["seq"])
            if limit is not None and seq not in parts and len(parts) == limit:
                break
            parts.setdefault(seq, []).append(item)
        return [self._assemble(pk, parts[seq]) for seq in sorted(parts)]

    def _assemble(self, pk: str, items: list[dict[str, Any]]) -> ChatMessage:
        items = sorted(items, key=lambda i: i["SK"])
        first = items[0]
        if len(items) != int(first["parts"]):
            raise BackendError(f"message {first['seq']} of {pk} has {len(items)} of {first['parts']} parts")
        body = first["content"] if len(items) == 1 else b"".join(bytes(i["content"]) for i in items).decode()
        content, parts = json.loads(body) if first.get("packed") else (body, None)
        return ChatMessage(session_id=pk.removeprefix("SESSION#"), seq=int(first["seq"]), role=first["role"],
                           content=content, tokens=first.get("tokens"), context_ids=first.get("context_ids", []),
                           created_at=first["created_at"], **read_parts(parts))

    def messages(self, session_id: uuid.UUID, user_id: str, now: datetime, limit: int | None,
                 before: int | None) -> list[ChatMessage] | None:
        """Messages oldest first: all of them, or the last `limit` before seq `before`."""
        meta = self._live(session_id, user_id, now)
        if meta is None:
            return None
        high = _through(before - 1) if before is not None else _through(int(meta["last_seq"]))
        if limit is None:
            return self._messages(meta["PK"], "MESSAGE#", high, newest_first=False, limit=None)
        return self._messages(meta["PK"], "MESSAGE#", high, newest_first=True, limit=limit)

    def session_page(self, user_id: str, now: datetime, ttl: timedelta, after: Bookmark | None, size: int) -> Rows:
        """The user's live sessions, most recently active first (to within RECENCY_STEP): one Query of
        UserSessionsIndex per page.

        The key condition (index key after now - ttl - RECENCY_STEP) leaves all but the last step's expired
        sessions out before any limit; those few are dropped here (so a page may hold fewer than size).
        """
        sessions, position = query_rows(
            self._dynamo, self._table, _session, size, after, IndexName="UserSessionsIndex", ScanIndexForward=False,
            KeyConditionExpression="GSI1PK = :pk AND GSI1SK > :cutoff",
            ExpressionAttributeValues={":pk": f"USER#{user_id}", ":cutoff": instant_text(now - ttl - RECENCY_STEP)})
        return [session for session in sessions if session.expires_at > now], position

    def touch(self, session_id: uuid.UUID, user_id: str, now: datetime, ttl: timedelta,
              changes: Mapping[str, Any]) -> ChatSession | None:
        """Set changes (title, pedagogy_mode) and record the activity: one conditional UpdateItem."""
        names = {f"#c{n}": name for n, name in enumerate(changes)}
        values = {f":c{n}": value for n, value in enumerate(changes.values())}
        return self._update(session_id, user_id, now, ttl, ", ".join(f"#c{n} = :c{n}" for n in range(len(changes))),
                            names, values)

    def _update(self, session_id: uuid.UUID, user_id: str, now: datetime, ttl: timedelta, expression: str,
                names: dict[str, str], values: dict[str, Any]) -> ChatSession | None:
        activity, activity_values = self._activity(now, ttl)
        clause = f"SET {activity}" + (f", {expression}" if expression else "")
        item = self._dynamo.update_if(
            self._table, {"PK": f"SESSION#{session_id}", "SK": META}, clause,
            {"#la": "last_accessed", "#ttl": "ttl", **names},
            {**activity_values, **values, ":user": user_id, ":live": instant_text(now)},
            "user_id = :user AND expires_at > :live")
        return None if item is None else _session(item)

    def truncate(self, session_id: uuid.UUID, user_id: str, keep: int, now: datetime, ttl: timedelta) -> int | None:
        """Delete all but the newest keep messages (batched), then their counts (ADD: racing appends keep theirs)."""
        meta = self._live(session_id, user_id, now)
        if meta is None:
            return None
        boundary = int(meta["last_seq"]) - keep
        if boundary < 1:
            return 0
        doomed = list(self._dynamo.query(
            self._table, ProjectionExpression="PK, SK, seq, tokens",
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={":pk": meta["PK"], ":low": "MESSAGE#", ":high": _through(boundary)}))
        self._dynamo.batch_write(self._table, deletes=[{"PK": i["PK"], "SK": i["SK"]} for i in doomed])
        firsts = [i for i in doomed if i["SK"].endswith("#000")]
        tokens = sum((Decimal(i.get("tokens") or 0) for i in firsts), Decimal(0))
        self._update(session_id, user_id, now, ttl,
                     "message_count = message_count - :n, total_tokens = total_tokens - :k",
                     {}, {":n": len(firsts), ":k": tokens})
        return len(firsts)

    def delete_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> bool:
        """Delete a session and every message in it (messages first, the session last)."""
        meta = self._live(session_id, user_id, now)
        if meta is None:
            return False
        keys = [{"PK": i["PK"], "SK": i["SK"]} for i in self._dynamo.query(
            self._table, ProjectionExpression="PK, SK", KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": meta["PK"]}) if i["SK"] != META]
        self._dynamo.batch_write(self._table, deletes=keys)
        self._dynamo.batch_write(self._table, deletes=[{"PK": meta["PK"], "SK": META}])
        return True

    def stats(self, session_id: uuid.UUID, user_id: str, now: datetime) -> SessionStats | None:
        """Counts by role, tokens and size of a session."""
        meta = self._live(session_id, user_id, now)
        if meta is None:
            return None
        messages = self._messages(meta["PK"], "MESSAGE#", _through(int(meta["last_seq"])), newest_first=False,
                                  limit=None)
        session = _session(meta)
        return SessionStats(session_id=session.id, message_count=session.message_count,
                            total_tokens=session.total_tokens,
                            messages_by_role=dict(Counter(m.role for m in messages)),
                            content_characters=sum(len(m.content) for m in messages), created_at=session.created_at,
                            last_accessed=session.last_accessed, expires_at=session.expires_at)

    def purge_expired(self, now: datetime) -> int:
        """Nothing to do: DynamoDB's TTL deletes expired sessions, and reads already ignore them."""
        return 0
