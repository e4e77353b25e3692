"""Feeds end to end: files replayed, the simulation, a local Polygon-speaking server, the Kinesis handler."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.server import serve

from alexdb import Database
from alexdb.speed import feeds
from alexdb.speed.kinesis import handle
from alexdb.speed.pipeline import Ingestor
from tests.conftest import instrument, present

NOW = (time.time_ns() // 1_000_000 // 60_000 - 10) * 60_000  # a minute's start, ten minutes ago


def test_replaying_a_csv_file_rejects_each_bad_line_by_number(db: Database, tmp_path: Path) -> None:
    db.instruments.create_instrument(instrument("SPY"))
    alert = db.alerts.create_alert("alice", "SPY", {"operator": ">=", "threshold": "501"})
    path = tmp_path / "ticks.csv"
    path.write_text("symbol,price,timestamp,volume,source\n"
                    f"SPY,500.00,{NOW},10,replay\n"
                    f"SPY,oops,{NOW + 1},10,replay\n"  # line 3
                    f"SPY,501.25,{NOW + 2},,\n"
                    f"SPY,502,{NOW + 3},1,x,surplus\n"  # line 5
                    "SPY,503,yesterday,1,replay\n"  # line 6
                    f"SPY,499.5,1970-01-01T00:00:00Z,1,replay\n")  # line 7: implausible (before 2000)
    counts = feeds.run(Ingestor(db, {}), feeds.read_file(path), batch_size=2)
    assert (counts.accepted, counts.rejected, counts.fired) == (2, 4, 1)
    assert [e.split(":")[0] for e in counts.errors] == ["line 3", "line 5", "line 6", "line 7"]
    assert "before 2000" in counts.errors[3]
    assert "price='oops'" in counts.errors[0] and "timestamp='yesterday'" in counts.errors[2]
    assert present(db.ticks.latest("SPY")).price == Decimal("501.25")
    assert db.instruments.get_instrument("SPY").current_price == Decimal("501.25")
    assert db.alerts.get_alert(alert.alert_id).trigger_count == 1  # recorded as failed: no websocket here
    [note] = db.notifications.find_by_user("alice")
    assert note.delivery_status == "failed"


def test_replaying_json_lines_keeps_prices_exact(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "ticks.jsonl"
    path.write_text(f'{{"symbol": "BTC-USD", "price": 64123.12345678, "timestamp": {NOW}, "volume": 0.5}}\n'
                    "\n"
                    "{not json\n"  # line 3
                    f'{{"symbol": "BTC-USD", "price": 1e400, "timestamp": {NOW + 1}}}\n'  # line 4: too big
                    f'{{"symbol": "BTC-USD", "price": "64000", "timestamp": "{NOW + 2}"}}\n')
    counts = feeds.run(Ingestor(db, {}), feeds.read_file(path))
    assert (counts.accepted, counts.rejected) == (2, 2)
    assert counts.errors[0].startswith("line 3: record='{not json': not JSON")
    assert counts.errors[1].startswith("line 4: price=")
    first, second = db.ticks.window("BTC-USD", NOW, NOW + 2)
    assert (first.price, first.volume, second.price) == (Decimal("64123.12345678"), Decimal("0.5"), Decimal("64000"))


def test_the_simulation_is_deterministic_and_exact() -> None:
    start = {"SPY": Decimal("500"), "QQQ": Decimal("400.10")}
    one = list(feeds.simulate(start, 1000, seed=7, start_ms=NOW, rate=100))
    assert one == list(feeds.simulate(start, 1000, seed=7, start_ms=NOW, rate=100))
    assert one != list(feeds.simulate(start, 1000, seed=8, start_ms=NOW, rate=100))
    prices = [record["price"] for _, record in one]
    assert all(isinstance(p, Decimal) and p == p.quantize(Decimal("0.01")) and p > 0 for p in prices)
    assert len(set(prices)) > 100
    assert one[-1][1]["timestamp"] == NOW + 999 * 10  # 100 a second of tick time
    assert {record["symbol"] for _, record in one} == {"SPY", "QQQ"}


def test_pacing_holds_the_rate() -> None:
    began = time.monotonic()
    assert len(list(feeds.paced(feeds.simulate({"SPY": Decimal(1)}, 21, rate=100), rate=100))) == 21
    assert time.monotonic() - began >= 0.19


class PolygonServer:
    """A local server speaking Polygon.io's WebSocket protocol: connected, auth, subscribe, then events."""

    def __init__(self, key: str, messages: list[Any], drop_after: int | None = None) -> None:
        self.key, self.messages, self.drop_after = key, messages, drop_after
        self.subscriptions: list[str] = []
        self.connections = 0
        self.server = serve(self.handler, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"

    def handler(self, socket: Any) -> None:
        self.connections += 1
        socket.send(json.dumps([{"ev": "status", "status": "connected", "message": "Connected Successfully"}]))
        auth = json.loads(socket.recv())
        if auth != {"action": "auth", "params": self.key}:
            socket.send(json.dumps([{"ev": "status", "status": "auth_failed", "message": "authentication failed"}]))
            return
        socket.send(json.dumps([{"ev": "status", "status": "auth_success", "message": "authenticated"}]))
        subscribe = json.loads(socket.recv())
        self.subscriptions.append(subscribe["params"])
        socket.send(json.dumps([{"ev": "status", "status": "success", "message": f"subscribed to: {subscribe['params']}"}]))
        for number, message in enumerate(self.messages):
            if self.drop_after is not None and number == self.drop_after and self.connections == 1:
                socket.socket.close()  # the connection drops under the client's feet
                return
            socket.send(message if isinstance(message, str) else json.dumps(message))
        time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()


def trades(start: int, prices: list[str]) -> list[Any]:
    return [[{"ev": "T", "sym": "AAPL", "i": str(n), "x": 4, "p": json.loads(p), "s": 100, "t": start + n, "c": [12]}]
            for n, p in enumerate(prices)]


def test_a_polygon_stream_is_ingested(db: Database) -> None:
    alert = db.alerts.create_alert("alice", "AAPL", {"operator": "crosses_above", "threshold": "190"})
    messages = [*trades(NOW, ["189.5", "190.25", "190.5"]), [{"ev": "T", "sym": "AAPL", "p": 191}],  # no timestamp
                "not json"]
    server = PolygonServer("secret", messages)
    try:
        counts = feeds.run(Ingestor(db, {}), feeds.PolygonFeed(server.url, "secret", "T.AAPL", duration=5))
    finally:
        server.close()
    assert server.subscriptions == ["T.AAPL"]
    assert (counts.accepted, counts.rejected, counts.fired) == (3, 2, 1)
    assert counts.errors[0].startswith("event 4: timestamp=None")
    assert counts.errors[1].startswith("event 5: record='not json': not JSON")
    assert [t.price for t in db.ticks.window("AAPL", NOW, NOW + 2)] == [Decimal("189.5"), Decimal("190.25"), Decimal("190.5")]
    assert present(db.ticks.latest("AAPL")).source == "polygon"
    assert db.alerts.get_alert(alert.alert_id).trigger_count == 1


def test_a_refused_polygon_key_is_a_clear_error(db: Database) -> None:
    server = PolygonServer("secret", [])
    try:
        with pytest.raises(feeds.FeedError, match="refused the API key"):
            list(feeds.PolygonFeed(server.url, "wrong", duration=5))
    finally:
        server.close()


def test_a_dropped_polygon_connection_is_reopened(db: Database) -> None:
    server = PolygonServer("secret", trades(NOW, ["1", "2", "3", "4"]), drop_after=2)
    try:
        counts = feeds.run(Ingestor(db, {}), feeds.PolygonFeed(server.url, "secret", max_messages=6, duration=10))
    finally:
        server.close()
    assert server.connections == 2 and counts.accepted == 6  # 2 before the drop, then all 4 again
    assert len(db.ticks.window("AAPL", NOW, NOW + 3)) == 4  # the replayed ticks stored once


def kinesis_event(payloads: list[bytes | str]) -> dict[str, Any]:
    return {"Records": [{"kinesis": {"sequenceNumber": f"4960{n:04d}", "partitionKey": "SPY",
                                     "data": p if isinstance(p, str) else base64.b64encode(p).decode()},
                         "eventSource": "aws:kinesis"} for n, p in enumerate(payloads)]}


def test_kinesis_reports_only_the_bad_records(db: Database) -> None:
    event = kinesis_event([json.dumps({"symbol": "SPY", "price": 500.25, "timestamp": NOW}).encode(),
                           b"{not json",
                           "!!not base64!!",
                           json.dumps({"symbol": "SPY", "price": "-1", "timestamp": NOW + 1}).encode(),
                           json.dumps({"symbol": "SPY", "price": "501", "timestamp": NOW + 2}).encode()])
    answer = handle(event, Ingestor(db, {}))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "49600001"}, {"itemIdentifier": "49600002"},
                                            {"itemIdentifier": "49600003"}]}
    assert [t.price for t in db.ticks.window("SPY", NOW, NOW + 2)] == [Decimal("500.25"), Decimal("501")]


def test_kinesis_reports_every_record_when_the_store_fails(sql_url: str) -> None:
    import alexdb

    db = alexdb.connect(sql_url, migrate=True)
    db.drop_all()  # the tables are gone: the store refuses the batch
    event = kinesis_event([json.dumps({"symbol": "SPY", "price": "1", "timestamp": NOW + n}).encode() for n in range(3)])
    try:
        answer = handle(event, Ingestor(db, {}))
    finally:
        db.migrate()  # the server's schema back for the tests that follow
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["49600000", "49600001", "49600002"]


def test_an_interrupted_feed_keeps_what_it_read(db: Database) -> None:
    def feed() -> Iterator[feeds.Labelled]:
        yield from feeds.simulate({"SPY": Decimal(100)}, 5, start_ms=NOW)
        raise KeyboardInterrupt

    counts = feeds.run(Ingestor(db, {}), feed(), batch_size=100)
    assert counts.interrupted and counts.accepted == 5
    assert len(db.ticks.window("SPY", NOW, NOW + 10_000)) == 5


def test_kinesis_lists_exactly_the_hostile_records(db: Database) -> None:
    good = [json.dumps({"symbol": "SPY", "price": "1", "timestamp": NOW + n}).encode() for n in range(2)]
    hostile = [json.dumps({"symbol": "SPY", "price": "1", "timestamp": 2**63}).encode(),  # past 64 bits
               json.dumps({"symbol": "SPY", "price": "1", "timestamp": NOW * 1000}).encode(),  # microseconds
               json.dumps({"symbol": "SPY", "price": "1", "timestamp": NOW // 1000}).encode(),  # seconds
               json.dumps({"symbol": "SPY", "price": "1", "timestamp": NOW, "source": "a\u0000b"}).encode(),
               b'{"symbol": "SPY", "price": "1", "timestamp": %d, "source": "\\ud800"}' % NOW,  # lone surrogate
               b"[" * 100_000 + b"]" * 100_000,  # nested arrays
               json.dumps({"symbol": "SPY", "price": "1e400000", "timestamp": NOW}).encode()]
    event = kinesis_event([good[0], *hostile, good[1]])
    answer = handle(event, Ingestor(db, {}))
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == [f"4960{n:04d}" for n in range(1, 8)]
    assert len(db.ticks.window("SPY", NOW, NOW + 1)) == 2
