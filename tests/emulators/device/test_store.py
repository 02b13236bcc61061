"""The fiscal drive's SQLite store: a transaction that cannot commit is rolled back, and the store stays usable."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from kkt_emulators.device.documents import new_registration
from kkt_emulators.device.store import Store

Transaction = Callable[[Store], AbstractContextManager[sqlite3.Connection]]


def _deny_commit(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    """An SQLite authorizer that refuses to prepare ``COMMIT`` (and allows everything else, ``ROLLBACK`` too)."""
    if action == sqlite3.SQLITE_TRANSACTION and arg1 == "COMMIT":
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@pytest.mark.parametrize("transaction", [Store.write, Store.read], ids=["write", "read"])
def test_a_failed_commit_rolls_back_and_the_next_transaction_works(tmp_path: Path, transaction: Transaction) -> None:
    """When COMMIT fails the error reaches the caller, the transaction is rolled back, and the next one begins."""
    store = Store(tmp_path)
    used: list[sqlite3.Connection] = []

    def register_and_fail_to_commit() -> None:
        with transaction(store) as conn:
            used.append(conn)
            Store.save_registration(conn, new_registration(random.Random(1)), when=0.0)
            conn.set_authorizer(_deny_commit)

    try:
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            register_and_fail_to_commit()
        (conn,) = used
        conn.set_authorizer(None)
        assert not conn.in_transaction
        with store.write() as again:
            assert Store.load_registration(again) is None  # the failed transaction's row is gone
            Store.save_registration(again, new_registration(random.Random(2)), when=0.0)
    finally:
        store.close()
    reopened = Store(tmp_path)
    try:
        with reopened.read() as conn:
            registration = Store.load_registration(conn)
        assert registration is not None
        assert registration.fn_number == new_registration(random.Random(2)).fn_number
    finally:
        reopened.close()
