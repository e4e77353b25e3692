"""Contract: concurrent updates of different fields of one record all land (every backend).

Each update is applied to the state it read and written only while that state is still the stored one
(updated_at is the version); a writer that lost the race applies its change again to the new state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from alexdb import Database
from tests.conftest import instrument

ROUNDS = 4
ACCOUNT_TYPES = ["401k", "roth_ira", "traditional_ira", "taxable", "529"]
INSTRUMENT_TYPES = ["etf", "mutual_fund", "stock", "bond_fund", "reit"]

USER_FIELDS: dict[str, Callable[[int], Any]] = {
    "display_name": lambda r: f"name {r}",
    "years_until_retirement": lambda r: r + 1,
    "target_retirement_income": lambda r: Decimal(1000 + r),
    "asset_class_targets": lambda r: {"equity": 100 - r - 1, "fixed_income": r + 1},
    "region_targets": lambda r: {"north_america": 100 - r - 1, "international": r + 1},
}
ACCOUNT_FIELDS: dict[str, Callable[[int], Any]] = {
    "account_name": lambda r: f"account {r}",
    "account_purpose": lambda r: f"purpose {r}",
    "cash_balance": lambda r: Decimal(r + 1),
    "cash_interest": lambda r: Decimal(r + 1) / 100,
    "account_type": lambda r: ACCOUNT_TYPES[r % len(ACCOUNT_TYPES)],
}
INSTRUMENT_FIELDS: dict[str, Callable[[int], Any]] = {
    "name": lambda r: f"fund {r}",
    "instrument_type": lambda r: INSTRUMENT_TYPES[r % len(INSTRUMENT_TYPES)],
    "allocation_regions": lambda r: {"north_america": 100 - r - 1, "europe": r + 1},
    "allocation_sectors": lambda r: {"technology": 100 - r - 1, "healthcare": r + 1},
    "allocation_asset_class": lambda r: {"equity": 100 - r - 1, "fixed_income": r + 1},
}
ALERT_FIELDS: dict[str, Callable[[int], Any]] = {
    "notification_method": lambda r: ["email", "webhook", "sns", "websocket"][r % 4],
    "cooldown_seconds": lambda r: r + 1,
    "enabled": lambda r: r % 2 == 1,
}


def _race(writers: list[Callable[[], None]]) -> None:
    """Start every writer at once; fail on any writer's error."""
    start, errors = threading.Barrier(len(writers)), []

    def run(write: Callable[[], None]) -> None:
        try:
            start.wait()
            write()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(write,)) for write in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def _writer(update: Callable[..., Any], key: Any, field: str, value: Callable[[int], Any]) -> Callable[[], None]:
    def write() -> None:
        for r in range(ROUNDS):
            update(key, **{field: value(r)})
    return write


def test_concurrent_updates_of_different_fields_all_land(db: Database) -> None:
    db.users.create_user("racer")
    account = db.accounts.create_account("racer", "start")
    db.instruments.create_instrument(instrument("SPY"))
    alert = db.alerts.create_alert("racer", "SPY", {"operator": ">", "threshold": "1"})
    stores: list[tuple[Callable[..., Any], Any, dict[str, Callable[[int], Any]]]] = [
        (db.users.update_user, "racer", USER_FIELDS),
        (db.accounts.update_account, account.id, ACCOUNT_FIELDS),
        (db.instruments.update_instrument, "SPY", INSTRUMENT_FIELDS),
        (db.alerts.update_alert, alert.alert_id, ALERT_FIELDS),
    ]
    # Eighteen writers at once: one per field of each record, every record written by several at a time.
    _race([_writer(update, key, field, value) for update, key, fields in stores for field, value in fields.items()])
    last = ROUNDS - 1
    records = [db.users.get_user("racer"), db.accounts.get_account(account.id),
               db.instruments.get_instrument("SPY"), db.alerts.get_alert(alert.alert_id)]
    for record, (_, _, fields) in zip(records, stores, strict=True):
        for field, value in fields.items():
            assert getattr(record, field) == value(last), (type(record).__name__, field)


def test_an_update_keeps_what_a_trade_or_a_price_wrote_meanwhile(db: Database) -> None:
    db.users.create_user("racer")
    db.instruments.create_instrument(instrument("SPY", price="10"))
    db.instruments.update_instrument("SPY", name="renamed")
    db.instruments.record_price("SPY", "11")
    renamed = db.instruments.update_instrument("SPY", instrument_type="stock")
    assert renamed.name == "renamed" and renamed.current_price == Decimal("11")
    assert db.instruments.get_instrument("SPY") == renamed
