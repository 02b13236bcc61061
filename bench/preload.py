"""Fill a buffer file straight through SQLite, fast, with rows shaped exactly as the adapter writes them.

The file is first opened once with :class:`Buffer` so that the schema, its triggers and the storage pragmas exist;
then rows are inserted in big transactions (``synchronous=OFF`` for the preload only: the preload is not what is
measured). The triggers keep the counters and write the audit events, as they do for real receipts. Preloaded rows
carry their own FN number, so the emulated device's FD numbers never collide with them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from kkt_adapter.buffer import Buffer
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import ItemInput, Payment, Receipt, build_receipt
from kkt_adapter.testing import FakeDriver
from kkt_clock import SystemClock

PRELOAD_FN = "9999078900099999"
_BATCH = 50_000
_COLUMNS = (
    "receipt_id, idempotency_key, body_hash, pos_id, operation, total_kop, request_json, state, created_at,"
    " updated_at, printed_at, fd_number, fn_number, fiscal_json, response_json, hlc_wall_ms, hlc_logical,"
    " attempts, next_attempt_at, ofd_id, ofd_server_time, hlc_server_ms, synced_at"
)


def sample_receipt() -> Receipt:
    """The same one-line cash sale the load generator posts, as the domain sees it."""
    return build_receipt(
        pos_id="POS-001",
        operation="sale",
        items=[ItemInput(name="Test Product", price_kop=10_000, quantity=Decimal(1), vat_rate="20")],
        payments=[Payment(kind="cash", amount_kop=10_000)],
    )


def sample_result(receipt: Receipt) -> FiscalResult:
    """A fiscal result as the fake KKT makes it (the document the sync side would deliver)."""
    return FakeDriver().print_receipt(receipt, idempotency_key="preload-template")


def existing_rows(path: Path) -> int:
    """Receipts in the buffer file now (by the counters)."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT COALESCE(SUM(n), 0) FROM counters").fetchone()[0])
    finally:
        conn.close()


def preload(path: Path, *, rows: int, pending_share: float = 0.01, all_pending: bool = False) -> float:
    """Append ``rows`` receipts (mostly ``synced``, ``pending_share`` ``pending``); return the seconds it took."""
    started = time.perf_counter()
    Buffer(path, clock=SystemClock()).close()
    receipt = sample_receipt()
    template = sample_result(receipt)
    request_json = json.dumps(receipt.canonical(), ensure_ascii=False)
    templates = _templates(template, "@RID@")
    pending_every = 1 if all_pending else max(1, round(1 / pending_share)) if pending_share > 0 else 0
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        # Each row names its device, as this version writes them (a buffer of an older schema has no such column).
        named = any(row[1] == "device" for row in conn.execute("PRAGMA table_info(receipts)"))
        device: tuple[str, ...] = ("main",) if named else ()
        columns = _COLUMNS + (", device" if named else "")
        conn.execute("PRAGMA cache_size = -262144")
        first_fd = int(conn.execute("SELECT COALESCE(MAX(fd_number), 0) FROM receipts").fetchone()[0]) + 1
        last_fd = first_fd + rows - 1
        now = time.time()
        done = 0
        while done < rows:
            size = min(_BATCH, rows - done)
            batch = [
                (*_row(first_fd + done + i, templates, request_json, receipt, now, last_fd, pending_every), *device)
                for i in range(size)
            ]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(f"INSERT INTO receipts ({columns}) VALUES ({','.join('?' * len(batch[0]))})", batch)
            conn.execute("COMMIT")
            done += size
        last_ms = int(now * 1000)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('hlc', ?) ON CONFLICT (key) DO UPDATE SET value ="
            " CASE WHEN CAST(substr(value, 1, instr(value, ':') - 1) AS INTEGER) < ?"
            " THEN excluded.value ELSE value END",
            (f"{last_ms}:0", last_ms),
        )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - started


def _templates(template: FiscalResult, receipt_id_mark: str) -> tuple[str, str]:
    """The fiscal JSON and the response JSON with markers where each row's own values go (built once)."""
    fiscal = FiscalResult(
        fiscal_doc_number=-111,
        fiscal_sign="-222",
        fiscal_datetime=template.fiscal_datetime,
        fn_number=PRELOAD_FN,
        kkt_number=template.kkt_number,
        qr_code_data=template.qr_code_data.replace(f"i={template.fiscal_doc_number}", "i=-111")
        .replace(f"fp={template.fiscal_sign}", "fp=-222")
        .replace(f"fn={template.fn_number}", f"fn={PRELOAD_FN}"),
        shift_number=-333,
        receipt_number=-444,
        total_kop=template.total_kop,
        document={**template.document, "1040": -111, "1041": PRELOAD_FN, "1077": -222},
    )
    return json.dumps(fiscal.to_dict(), ensure_ascii=False), fiscal.response_json(receipt_id_mark)


def _fill(text: str, fd: int, sign: str, receipt_id: str) -> str:
    return (
        text.replace("-111", str(fd))
        .replace("-222", sign)
        .replace("-333", str(1 + fd // 5_000))
        .replace("-444", str(fd % 5_000 + 1))
        .replace("@RID@", receipt_id)
    )


def _row(
    fd: int,
    templates: tuple[str, str],
    request_json: str,
    receipt: Receipt,
    now: float,
    last_fd: int,
    pending_every: int,
) -> tuple[Any, ...]:
    # Spread creation over the recent past, oldest first, so HLC order and creation order agree.
    created = now - 1.0 - (last_fd - fd) * 0.001
    receipt_id = str(uuid.UUID(bytes=os.urandom(16), version=4))
    key = os.urandom(16).hex()
    sign = str(2_000_000_000 + fd)
    fiscal_json = _fill(templates[0], fd, sign, receipt_id)
    response_json = _fill(templates[1], fd, sign, receipt_id)
    pending = pending_every > 0 and fd % pending_every == 0
    synced_at = None if pending else created + 0.5
    return (
        receipt_id,
        key,
        hashlib.sha256(key.encode()).hexdigest(),
        receipt.pos_id,
        receipt.operation,
        receipt.total_kop,
        request_json,
        "pending" if pending else "synced",
        created,
        synced_at or created,
        created,
        fd,
        PRELOAD_FN,
        fiscal_json,
        response_json,
        int(created * 1000),
        0,
        0 if pending else 1,
        created,
        None if pending else f"OFD-{fd:09d}",
        None if pending else "2025-11-30T12:00:01+00:00",
        None if pending else int(created * 1000) + 100,
        synced_at,
    )
