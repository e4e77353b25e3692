"""What every CLI command shares: the URL and user options, opening the database, finding an account."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

import alexdb
from alexdb.database import Database
from alexdb.domain.errors import NotFoundError
from alexdb.domain.models import Account

UrlOption = Annotated[str | None, typer.Option("--url", envvar="ALEXDB_URL", help="Database URL (default sqlite:///alex.db).")]
UserOption = Annotated[str, typer.Option("--user", "-u", help="Clerk user id owning the account.")]


def open_db(url: str | None, migrate: bool | None = None) -> Database:
    """The database at url (ALEXDB_URL, or the embedded SQLite file)."""
    return alexdb.connect(url, migrate=migrate)


def find_account(db: Database, account: str, user: str) -> Account:
    """An account given by id, or by name among the user's accounts."""
    try:
        return db.accounts.get_account(uuid.UUID(account))
    except ValueError:
        pass
    for candidate in db.accounts.find_by_user(user):
        if candidate.account_name == account:
            return candidate
    raise NotFoundError("account", f"{account} (user {user})")
