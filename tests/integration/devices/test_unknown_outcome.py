"""A print whose outcome is unknown is never moved to another device, and a row left ``accepted`` is settled from
its own device's journal.

The primary is the ATOL emulator (``MockAtolServer``, real HTTP) whose replies are lost or whose queue is blocked,
the backup an emulated KKT: the sale never reaches the backup, the client is told to retry with the same key, and
once the fault is gone the resend resolves it on the primary, one document in the two journals together. Then an
``accepted`` row bound to the backup (the backup printed it, the answer was lost) is settled at the next start from
the backup's journal, not the primary's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from integration.devices_support import (
    ShiftedClock,
    emulated,
    post,
    ready,
    receipts_by_key,
    state_dir,
    two_devices_env,
)
from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.devices.emulated import EmulatedDriver
from kkt_adapter.devices.protocol import PrintJob
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt
from kkt_clock import SystemClock
from kkt_emulators.atol import MockAtolServer
from ready_device import fn_number, journal

#: The adapter leaves a key ``accepted`` by a print whose outcome it does not know for this long before it takes the
#: key over (a minute).
TAKE_OVER_AFTER_S = 61


def lose_every_reply(server: MockAtolServer) -> None:
    """Every job POST and GET is answered by a closed connection (the POSTed job is made and printed all the same)."""
    server.faults.lose_reply(on="post", times=1_000)
    server.faults.lose_reply(on="get", times=1_000)


def block_printed(server: MockAtolServer) -> None:
    """The next print blocks the queue until cleared, its document made."""
    server.faults.block(printed=True, polls=0)


def block_not_printed(server: MockAtolServer) -> None:
    """The next print blocks the queue until cleared, its document not made."""
    server.faults.block(printed=False, polls=0)


def atol_receipts(server: MockAtolServer) -> list[int]:
    """FD numbers of the receipts on the ATOL emulator's FN."""
    return [d.fd_number for d in server.kkt.journal(after_fd=0, limit=10_000) if d.receipt_number is not None]


@pytest.mark.parametrize(
    ("fault", "printed"),
    [(lose_every_reply, True), (block_printed, True), (block_not_printed, False)],
    ids=["lost-replies", "blocked-printed", "blocked-not-printed"],
)
def test_an_unknown_outcome_on_the_primary_is_never_moved_to_the_backup(
    tmp_path: Path, mock_atol_server: MockAtolServer, fault: Callable[[MockAtolServer], None], printed: bool
) -> None:
    """The ATOL primary's answer lost or its queue blocked: 503 ``unknown`` (retry with the same key) as long as it
    lasts, even to a resend naming the backup, and nothing on the backup; after the fault the resend resolves the key
    on the primary, one document in all."""
    data_dir = tmp_path / "data"
    backup = state_dir(data_dir, "backup")
    ready(backup)
    backup_before = journal(backup)
    atol = {
        "name": "main",
        "driver": "atol",
        "url": mock_atol_server.url,
        "poll_interval": 0.02,
        "job_timeout": 0.5,
    }
    env = two_devices_env(data_dir) | {"KKT_DEVICES": json.dumps([atol, emulated(data_dir, "backup")])}
    clock = ShiftedClock()
    with TestClient(create_app(load_settings(env), clock=clock)) as client:
        warm_up = post(client, "k0")
        assert warm_up.status_code == 200, warm_up.text
        assert warm_up.json()["device"] == "main"
        fault(mock_atol_server)
        for device in (None, "backup"):  # the first answer, then a resend naming the backup while the fault lasts
            unknown = post(client, "k1", device=device)
            assert unknown.status_code == 503, unknown.text
            assert unknown.json()["error"] == "unknown"
            assert "same Idempotency-Key" in unknown.json()["detail"]
        assert journal(backup) == backup_before, "nothing was moved to the backup"

        mock_atol_server.faults.clear()
        resolved = post(client, "k1")
        if not printed:
            assert resolved.status_code == 409, "the primary's journal says not printed: the key waits a minute"
            clock.advance(TAKE_OVER_AFTER_S)
            resolved = post(client, "k1")
        assert resolved.status_code == 200, resolved.text
        answer = resolved.json()
        assert answer["device"] == "main"
        assert client.get(f"/v1/kkt/receipt/{answer['receipt_id']}").json()["device"] == "main"
        assert post(client, "k1").content == resolved.content

    first = warm_up.json()["fiscal_doc"]["fiscal_doc_number"]
    assert atol_receipts(mock_atol_server) == [first, answer["fiscal_doc"]["fiscal_doc_number"]]
    assert journal(backup) == backup_before, "exactly one document for the key, on the primary"


class LostAnswers:
    """The backup's emulated driver whose every print answer is lost after the document is made, and whose journal
    does not answer: the print's outcome stays unknown, its row ``accepted``."""

    max_batch = 1

    def __init__(self, inner: EmulatedDriver) -> None:
        self.inner = inner

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        self.inner.print_receipt(receipt, idempotency_key=idempotency_key)
        raise TimeoutError("the answer was lost after the document was made")

    def print_batch(self, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
        outcomes: list[FiscalResult | Exception] = []
        for job in jobs:
            assert isinstance(job.request, Receipt)
            try:
                outcomes.append(self.print_receipt(job.request, idempotency_key=job.idempotency_key))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        raise ConnectionError("the device does not answer")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_an_accepted_row_of_the_backup_is_settled_from_the_backups_journal_at_start(tmp_path: Path) -> None:
    """A sale the backup printed while its answer was lost stays ``accepted``; the next start settles it from the
    backup's journal (pending, the backup's FD and FN), not from the primary's, which lacks it."""
    data_dir = tmp_path / "data"
    main, backup = state_dir(data_dir, "main"), state_dir(data_dir, "backup")
    for directory in (main, backup):
        ready(directory)
    main_before = journal(main)
    settings = load_settings(two_devices_env(data_dir))
    lossy = LostAnswers(EmulatedDriver(backup, print_delay_ms=0, clock=SystemClock()))
    try:
        with TestClient(create_app(settings, drivers={"backup": lossy})) as client:
            unknown = post(client, "k1", device="backup")
            assert unknown.status_code == 503, unknown.text
            assert unknown.json()["error"] == "unknown"
            row = client.app.state.adapter.buffer.get_by_key("k1")  # type: ignore[attr-defined]
            assert row is not None and row.state.value == "accepted"
            receipt_id = row.receipt_id
    finally:
        lossy.inner.close()
    printed = receipts_by_key(backup)
    assert set(printed) == {"k1"}, "the backup made the document"

    with TestClient(create_app(settings)) as client:
        stored = client.get(f"/v1/kkt/receipt/{receipt_id}").json()
        assert stored["state"] == "pending", stored
        assert stored["device"] == "backup"
        assert stored["fiscal_doc"]["fiscal_doc_number"] == printed["k1"]
        assert stored["fiscal_doc"]["fn_number"] == fn_number(backup)
        replay = post(client, "k1")
        assert replay.status_code == 200, replay.text
        assert (replay.json()["device"], replay.json()["fiscal_doc"]["fiscal_doc_number"]) == ("backup", printed["k1"])
    assert journal(main) == main_before, "the primary printed nothing"
    assert receipts_by_key(backup) == {"k1": printed["k1"]}
