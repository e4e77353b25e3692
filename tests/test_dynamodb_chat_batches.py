"""DynamoDB's staged chat batches (past one transaction): invisible until committed, and a writer that
dies holding a claim blocks nothing after the claim lapses and leaves nothing visible."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alexdb import Database
from alexdb.adapters.dynamodb import chat as dynamo_chat
from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.domain.errors import BackendError

BATCH = [{"role": "user", "content": f"m{n}"} for n in range(120)]  # 120 items: past one transaction


def test_a_batch_whose_writer_dies_before_the_commit_is_never_seen(dynamo_db: Database,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    session = dynamo_db.chat.create_session("alice")
    dynamo_db.chat.add_message(session.id, "user", "before", user_id="alice")
    monkeypatch.setattr(dynamo_chat, "CLAIM_FOR", timedelta(seconds=1))
    original = Dynamo.transact_if
    seen_mid_batch: list[Any] = []

    def dies_at_the_commit(self: Dynamo, actions: Any) -> bool:
        if "claim = :token" in actions[0]["Update"]["ConditionExpression"]:
            seen_mid_batch.append(dynamo_db.chat.get_history(session.id, user_id="alice"))
            raise BackendError("the writer died")
        return original(self, actions)

    monkeypatch.setattr(Dynamo, "transact_if", dies_at_the_commit)
    with pytest.raises(BackendError):
        dynamo_db.chat.add_messages(session.id, BATCH, user_id="alice")
    monkeypatch.setattr(Dynamo, "transact_if", original)
    assert [m.content for m in seen_mid_batch[0]] == ["before"]  # items written, none visible
    assert [m.content for m in dynamo_db.chat.get_history(session.id, user_id="alice")] == ["before"]
    assert dynamo_db.chat.session_stats(session.id, user_id="alice").message_count == 1
    # Once the claim lapses the seqs are free again: the next writer overwrites what was left.
    after = dynamo_db.chat.add_messages(session.id, [{"role": "user", "content": "after"}], user_id="alice")
    assert after[0].seq == 2
    assert [m.content for m in dynamo_db.chat.get_history(session.id, user_id="alice")] == ["before", "after"]
    again = dynamo_db.chat.add_messages(session.id, BATCH, user_id="alice")
    assert [m.seq for m in again] == list(range(3, 123))
    assert len(dynamo_db.chat.get_history(session.id, user_id="alice")) == 122
