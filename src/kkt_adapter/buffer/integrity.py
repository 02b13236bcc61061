"""The buffer file's health as an operator sees it: SQLite's integrity check, what the buffer lacks of the device's
journal, a damaged file moved aside, and an online backup.

Everything here works on the file by path, with plain SQLite connections that neither migrate nor write (except the
backup's copy), so that ``kkt-adapter buffer verify`` and ``backup`` are safe beside a running adapter.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kkt_adapter.buffer.connection import Database, quick_check
from kkt_adapter.domain.device import JournalEntry

#: The suffixes of SQLite's companion files in WAL mode; they belong to the database file and move with it.
COMPANIONS = ("-wal", "-shm")
#: Where SQLite's unix VFS keeps the "DMS" byte of the ``-shm`` file: every connection holds a read lock on it.
_SHM_DMS_OFFSET = 128


def check(path: Path, *, full: bool = True) -> list[str]:
    """SQLite's problems with the file (``integrity_check``, or ``quick_check`` unless ``full``); ``[]`` if sound.

    A file SQLite cannot even read as a database reports that as its problem.
    """
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        conn = sqlite3.connect(path, timeout=10)
    except sqlite3.Error as exc:
        return [f"{type(exc).__name__}: {exc}"]
    try:
        return quick_check(conn, full=full)
    except sqlite3.DatabaseError as exc:
        return [f"{type(exc).__name__}: {exc}"]
    finally:
        conn.close()


def open_check(path: Path) -> None:
    """Open the buffer as the adapter does (checks, migrations) and close it; a :class:`StorageError` says why not."""
    Database(path).close()


def in_use(path: Path) -> bool:
    """Whether another process (a running adapter) has the file open: it holds a lock in the ``-shm`` file.

    For a process that has not opened the file itself: POSIX locks are per process, and closing any descriptor of a
    file drops all of the process's locks on it, SQLite's too (Linux, macOS).
    """
    shm = path.with_name(path.name + "-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_OFFSET)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_OFFSET)
        return False
    finally:
        os.close(fd)


def move_aside(path: Path, *, stamp: str) -> list[Path]:
    """Rename the file and its companions to ``<name>.damaged-<stamp>`` (``-wal``, ``-shm``); the new paths."""
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    moved: list[Path] = []
    for suffix in ("", *COMPANIONS):
        source = path.with_name(path.name + suffix)
        if source.exists():
            destination = target.with_name(target.name + suffix)
            source.rename(destination)
            moved.append(destination)
    return moved


def backup(source: Path, destination: Path) -> list[str]:
    """Copy the buffer with SQLite's online backup (one consistent snapshot, safe while the adapter writes) and
    check the copy; its problems, ``[]`` if sound. The destination must not exist."""
    if not source.exists():
        raise FileNotFoundError(source)
    if destination.exists():
        raise FileExistsError(destination)
    src = sqlite3.connect(source, timeout=10)
    try:
        dst = sqlite3.connect(destination)
        try:
            src.backup(dst)
            return quick_check(dst)
        finally:
            dst.close()
    finally:
        src.close()


@dataclass(frozen=True)
class Held:
    """What the buffer holds of one FN: its documents' FD numbers, and the keys of rows not yet printed."""

    fd_numbers: frozenset[int]
    unprinted_keys: frozenset[str]
    states: dict[str, int]


def held(path: Path, fn_number: str) -> Held:
    """Read what the buffer holds of ``fn_number`` (a plain read: no migration, no write)."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        numbers = frozenset(
            int(row[0])
            for row in conn.execute(
                "SELECT fd_number FROM receipts WHERE fn_number = ? AND fd_number IS NOT NULL", (fn_number,)
            )
        )
        keys = frozenset(
            str(row[0]) for row in conn.execute("SELECT idempotency_key FROM receipts WHERE fd_number IS NULL")
        )
        states = {str(row[0]): int(row[1]) for row in conn.execute("SELECT state, COUNT(*) FROM receipts GROUP BY 1")}
    finally:
        conn.close()
    return Held(numbers, keys, states)


def lacking(held: Held, journal: Iterable[JournalEntry]) -> list[JournalEntry]:
    """The journal's documents the buffer has no row for (by FD number, or a row of its key still being printed)."""
    return [
        entry
        for entry in journal
        if entry.result.fiscal_doc_number not in held.fd_numbers
        and (entry.key is None or entry.key not in held.unprinted_keys)
    ]
