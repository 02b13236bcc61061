"""A buffer that refuses writes on every route that prints: the shift opening, the Z report (both paths), the X report,
a correction, and the ERP's refund check each answer what the device did and did not do, never a generic 503 or a 500.

Faults are injected as in ``test_storage_faults.py``: an SQLite authorizer on the buffer's writer connection that
denies writes (the tests run as root, which ``chmod`` would not stop).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from integration.storage_support import allow_writes, deny_writes
from kkt_adapter.api.app import create_app
from kkt_adapter.buffer import Buffer
from kkt_adapter.config import load_settings
from kkt_adapter.testing import FakeClock, FakeDriver, bodies

CORRECTION = bodies.correction("89.90", name="Молоко", correction_type="self", basis_date="2026-11-20")


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


@pytest.fixture
def client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=FakeClock(), driver=driver)) as c:
        yield c


def adapter(client: TestClient) -> Any:
    return client.app.state.adapter  # type: ignore[attr-defined]


def buffer(client: TestClient) -> Buffer:
    found: Buffer = adapter(client).buffer
    return found


def assert_unavailable(response: Any, *phrases: str) -> str:
    """A 503 ``storage_unavailable`` with ``Retry-After`` whose detail says each of ``phrases``; the detail."""
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "storage_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    detail: str = response.json()["detail"]
    for phrase in phrases:
        assert phrase in detail, detail
    return detail


def assert_unhealthy(client: TestClient) -> None:
    health = client.get("/v1/health")
    assert health.status_code == 503
    assert "database not writable" in health.json()["reasons"]


class TestShiftReports:
    def test_a_shift_opening_the_buffer_refuses_is_kept_and_the_resend_answers_it(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """The device opens the shift, the buffer refuses the report: 503 naming the report and its FD number, kept in
        memory, health unhealthy; once storage is back the resend of the key answers it, printed once, stored."""
        db = buffer(client).db
        deny_writes(db)
        response = client.post("/v1/kkt/shift/open", headers={"Idempotency-Key": "open-1"})
        assert driver.shift_open
        detail = assert_unavailable(
            response, "the KKT printed the shift opening", "keeps it in memory", "resend the same Idempotency-Key"
        )
        assert_unhealthy(client)
        allow_writes(db)
        resent = client.post("/v1/kkt/shift/open", headers={"Idempotency-Key": "open-1"})
        assert resent.status_code == 200, resent.text
        number = resent.json()["fiscal_doc_number"]
        assert f"(FD {number})" in detail
        stored = buffer(client).find(number)
        assert stored is not None and stored.state.value == "pending"

    @pytest.mark.parametrize("path", ["/v1/kkt/z_report", "/v1/kkt/shift/close"])
    def test_a_z_report_the_buffer_refuses_is_stored_by_the_next_reconcile(
        self, client: TestClient, driver: FakeDriver, path: str
    ) -> None:
        """The Z report is printed and the shift closed, the buffer refuses it: 503 saying so with its FD number; the
        periodic reconcile stores it once writes are allowed, without printing anything again."""
        assert client.post("/v1/kkt/shift/open").status_code == 200
        db = buffer(client).db
        deny_writes(db)
        response = client.post(path, headers={"Idempotency-Key": f"z-{path}"})
        detail = assert_unavailable(response, "the KKT printed the Z report closing shift", "keeps it in memory")
        assert not driver.shift_open
        assert_unhealthy(client)
        number = int(detail.split("(FD ")[1].split(")")[0])
        assert buffer(client).find(number) is None

        allow_writes(db)
        adapter(client).devices.units[0].recovery.reconcile()
        stored = buffer(client).find(number)
        assert stored is not None and stored.state.value == "pending"
        resent = client.post(path, headers={"Idempotency-Key": f"z-{path}"})
        assert resent.status_code == 200, resent.text
        assert resent.json()["fiscal_doc_number"] == number

    def test_a_z_report_without_a_key_says_not_to_repeat_it(self, client: TestClient) -> None:
        """Without an Idempotency-Key the answer cannot promise a safe resend: it says not to repeat the request."""
        assert client.post("/v1/kkt/shift/open").status_code == 200
        deny_writes(buffer(client).db)
        response = client.post("/v1/kkt/z_report")
        assert_unavailable(response, "the KKT printed the Z report", "do not repeat the request")

    def test_a_kept_report_is_stored_with_the_next_shift_report(self, client: TestClient) -> None:
        """A report kept in memory goes into the buffer with the next shift report that can be stored, in FD order."""
        db = buffer(client).db
        deny_writes(db)
        detail = assert_unavailable(client.post("/v1/kkt/shift/open"), "shift opening")
        opening = int(detail.split("(FD ")[1].split(")")[0])
        allow_writes(db)
        closed = client.post("/v1/kkt/z_report")
        assert closed.status_code == 200, closed.text
        assert buffer(client).find(opening) is not None
        assert buffer(client).find(closed.json()["fiscal_doc_number"]) is not None

    def test_the_x_report_is_printed_while_the_buffer_refuses_writes(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """The X report is not a fiscal document and is not stored: it is printed and answered as usual."""
        assert client.post("/v1/kkt/shift/open").status_code == 200
        deny_writes(buffer(client).db)
        response = client.post("/v1/kkt/x_report")
        assert response.status_code == 200, response.text
        assert response.json()["report"] == "X"


class TestCorrectionAndRefundCheck:
    def test_a_correction_the_buffer_refuses_is_503_naming_the_correction(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """A correction is accepted like a receipt: refused before printing, the answer says nothing was printed."""
        deny_writes(buffer(client).db)
        response = client.post("/v1/kkt/correction", json=CORRECTION, headers={"Idempotency-Key": "c1"})
        assert_unavailable(response, "cannot store the correction", "nothing was printed")
        assert driver.printed == []

    def test_the_refund_check_reads_while_writes_are_refused_and_says_so_when_reads_fail(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The refund check only reads: it answers while writes are refused; a read that fails is 503 saying nothing
        was printed or changed."""
        sale = client.post("/v1/kkt/receipt", json=bodies.sale(100), headers={"Idempotency-Key": "s1"})
        receipt_id = sale.json()["receipt_id"]
        deny_writes(buffer(client).db)
        check = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": receipt_id})
        assert check.status_code == 409, check.text  # not synced yet: an answer, not a storage fault

        def unreadable(*_: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(buffer(client), "find", unreadable)
        response = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": receipt_id})
        assert_unavailable(response, "disk I/O error", "the refund check has no answer", "nothing was printed")
