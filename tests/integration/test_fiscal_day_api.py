"""The fiscal day through the HTTP API with an in-memory driver: shifts, X/Z, refunds tied to their sale,
corrections, the ERP's calls, and every document the device signs kept for the OFD in FD order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.buffer.outbox import Synced
from kkt_adapter.config import load_settings
from kkt_adapter.domain.receipt import Cashier
from kkt_adapter.testing import FakeClock, FakeDriver, bodies


def sale(*lines: tuple[str, str, str], pos_id: str = "POS-001", kind: str = "sale") -> dict[str, Any]:
    """A receipt of ``(name, price, quantity)`` lines paid in cash."""
    from decimal import Decimal

    total = sum(Decimal(price) * Decimal(qty) for _, price, qty in lines)
    paid = str(total.quantize(Decimal("0.01")))
    return bodies.sale(paid, items=[bodies.item(n, p, q) for n, p, q in lines], pos_id=pos_id, type=kind)


SALE = sale(("Молоко", "89.90", "2"), ("Хлеб", "45.00", "1"))


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


@pytest.fixture
def client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=FakeClock(), driver=driver)) as c:
        yield c


def post(client: TestClient, key: str, body: dict[str, Any], path: str = "/v1/kkt/receipt") -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def mark_synced(client: TestClient, receipt_id: str) -> None:
    """Deliver one document as the worker would when the OFD accepts it."""
    outbox = client.app.state.adapter.outbox  # type: ignore[attr-defined]
    claims = [c for c in outbox.claim_due("test", limit=1000, lease_seconds=30) if c.receipt_id == receipt_id]
    outbox.record([Synced(claims[0], "OFD-1", None, None)])


def buffer_rows(tmp_path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(tmp_path / "buffer.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT doc_type, fd_number, state, hlc_wall_ms, hlc_logical FROM receipts WHERE fd_number IS NOT NULL"
            " ORDER BY hlc_wall_ms, hlc_logical"
        ).fetchall()
    finally:
        conn.close()


class TestShift:
    def test_x_and_z_reports_and_their_refusals(self, client: TestClient) -> None:
        """No shift: X and Z are 409; a sale opens one; X reports it without a document; Z closes it with totals."""
        assert client.post("/v1/kkt/x_report").status_code == 409
        closed = client.post("/v1/kkt/z_report")
        assert (closed.status_code, closed.json()["error"]) == (409, "shift_not_open")
        assert post(client, "s1", SALE).status_code == 200
        x = client.post("/v1/kkt/x_report").json()
        assert (x["report"], x["fiscal"], x["open"], x["receipts"]) == ("X", False, True, 1)
        assert x["totals"]["by_operation"] == {"sale": "224.80"}
        z = client.post("/v1/kkt/shift/close")
        assert z.status_code == 200, z.text
        body = z.json()
        assert (body["status"], body["report"], body["receipts"]) == ("closed", "Z", 1)
        assert body["fiscal_doc_number"] == 2
        assert body["totals"]["by_operation"] == {"sale": "224.80"}
        assert client.get("/v1/kkt/shift").json()["open"] is False

    def test_open_twice_is_409_and_a_key_makes_open_idempotent(self, client: TestClient) -> None:
        """Opening an open shift is refused; the same key repeated answers the first opening report."""
        first = client.post("/v1/kkt/shift/open", headers={"Idempotency-Key": "open-1"})
        assert first.status_code == 200
        again = client.post("/v1/kkt/shift/open", headers={"Idempotency-Key": "open-1"})
        assert again.json()["fiscal_doc_number"] == first.json()["fiscal_doc_number"]
        other = client.post("/v1/kkt/shift/open")
        assert (other.status_code, other.json()["error"]) == (409, "shift_already_open")

    def test_the_shift_routes_take_an_optional_cashier_and_the_x_report_prints(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """``{"cashier": {name, inn}}`` reaches the driver with the opening and the Z report (none: the default);
        a malformed cashier is 422 naming its field; the X report is printed on the device."""
        cashier = {"name": "Иванова А.", "inn": "500100732259"}
        assert (
            client.post("/v1/kkt/shift/open", json={"cashier": cashier}, headers={"Idempotency-Key": "o"}).status_code
            == 200
        )
        assert client.post("/v1/kkt/x_report").status_code == 200
        bad = client.post("/v1/kkt/shift/close", json={"cashier": {"name": "Иванова А.", "inn": "500100732258"}})
        assert (bad.status_code, bad.json()["detail"][0]["loc"]) == (422, ["body", "cashier", "inn"])
        assert client.post("/v1/kkt/z_report", headers={"Idempotency-Key": "z"}).status_code == 200
        assert driver.shift_cashiers == {"o": Cashier("Иванова А.", "500100732259"), "z": None}
        assert driver.x_reports == 1

    def test_shift_reports_are_kept_for_the_ofd_in_fd_order(
        self, client: TestClient, driver: FakeDriver, tmp_path: Path
    ) -> None:
        """Openings, receipts and Z reports are all pending in the buffer, stamped in FD order."""
        client.post("/v1/kkt/shift/open")
        post(client, "a", SALE)
        client.post("/v1/kkt/z_report")
        # A report the device printed on its own (the adapter did not ask) is taken before the next receipt.
        driver.open_shift(idempotency_key="by-hand")
        post(client, "b", SALE)
        rows = buffer_rows(tmp_path)
        assert [(r["fd_number"], r["doc_type"]) for r in rows] == [(1, 2), (2, 3), (3, 5), (4, 2), (5, 3)]
        assert {r["state"] for r in rows} == {"pending"}


class TestRefunds:
    def test_a_refund_names_its_sale_and_may_not_exceed_it(self, client: TestClient) -> None:
        """Refunds tied to a sale are checked line by line against what was sold minus earlier refunds."""
        sold = post(client, "sale", SALE).json()
        receipt_id = sold["receipt_id"]
        part = sale(("Молоко", "89.90", "1"), kind="refund") | {"original_receipt_id": receipt_id}
        assert post(client, "r1", part).status_code == 200
        assert post(client, "r2", part).status_code == 200
        third = post(client, "r3", part)
        assert third.status_code == 422
        assert third.json()["detail"][0]["loc"][:3] == ["body", "items", 0]
        shown = client.get(f"/v1/kkt/receipt/{post(client, 'r1', part).json()['receipt_id']}").json()
        assert shown["original_receipt_id"] == receipt_id

    def test_refund_by_fd_number_and_unknown_originals(self, client: TestClient) -> None:
        """A sale may be named by its FD number; an unknown sale or a refund as original is refused (422)."""
        sold = post(client, "sale", SALE).json()
        by_fd = sale(("Хлеб", "45.00", "1"), kind="refund") | {
            "original_fd_number": sold["fiscal_doc"]["fiscal_doc_number"]
        }
        refund = post(client, "r1", by_fd)
        assert refund.status_code == 200, refund.text
        unknown = post(client, "r2", by_fd | {"original_fd_number": 999})
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["body", "original_fd_number"]
        of_refund = by_fd | {"original_fd_number": None, "original_receipt_id": refund.json()["receipt_id"]}
        assert post(client, "r3", of_refund).status_code == 422

    def test_a_refund_without_an_original_stays_allowed(self, client: TestClient) -> None:
        """A sale made before the adapter can still be refunded (nothing to tie it to)."""
        assert post(client, "r", sale(("Хлеб", "45.00", "1"), kind="refund")).status_code == 200

    def test_the_erps_refund_check(self, client: TestClient) -> None:
        """409 while the sale has not reached the OFD, 200 once it has, 404 when unknown."""
        sold = post(client, "sale", SALE).json()
        pending = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": sold["receipt_id"]})
        assert pending.status_code == 409
        assert (pending.json()["allowed"], pending.json()["sync_status"]) == (False, "pending")
        mark_synced(client, sold["receipt_id"])
        fd = sold["fiscal_doc"]["fiscal_doc_number"]
        allowed = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": fd})
        assert allowed.status_code == 200
        assert allowed.json() == {
            "allowed": True,
            "receipt_id": sold["receipt_id"],
            "sync_status": "synced",
            "left_to_refund": bodies.rubles(sold_kop(sold)),
        }
        assert client.post("/v1/pos/refund", json={"original_fiscal_doc_id": "nope"}).status_code == 404

    def test_the_refund_check_after_a_full_refund_says_nothing_is_left(self, client: TestClient) -> None:
        """Once the sale's refunds take all of it, the check answers allowed false with 0.00 left."""
        sold = post(client, "sale", SALE).json()
        mark_synced(client, sold["receipt_id"])
        refund = SALE | {"type": "refund", "original_receipt_id": sold["receipt_id"]}
        assert post(client, "refund", refund).status_code == 200
        check = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": sold["receipt_id"]})
        assert check.status_code == 409
        assert (check.json()["allowed"], check.json()["left_to_refund"]) == (False, "0.00")
        assert "refunded in full" in check.json()["reason"]


def sold_kop(answer: dict[str, Any]) -> int:
    return round(answer["fiscal_doc"]["total"] * 100)


class TestCorrection:
    BODY: ClassVar[dict[str, Any]] = bodies.correction(
        "89.90", name="Молоко", correction_type="instruction", basis_date="2026-11-20", basis_number="ФНС-42"
    )

    def test_a_correction_is_printed_once_and_kept_as_type_31(self, client: TestClient) -> None:
        """A correction answers like a receipt, replays by key, and is stored as document type 31."""
        first = post(client, "c1", self.BODY, "/v1/kkt/correction")
        assert first.status_code == 200, first.text
        assert post(client, "c1", self.BODY, "/v1/kkt/correction").content == first.content
        shown = client.get(f"/v1/kkt/receipt/{first.json()['receipt_id']}").json()
        assert shown["document_type"] == "correction"

    def test_instruction_needs_a_basis_number(self, client: TestClient) -> None:
        """A correction by order of the tax service without the order's number is refused, naming the field."""
        body = {k: v for k, v in self.BODY.items() if k != "basis_number"}
        response = post(client, "c2", body, "/v1/kkt/correction")
        assert response.status_code == 422


class TestErpCalls:
    def test_body_idempotency_key(self, client: TestClient) -> None:
        """A client that cannot set headers sends the key in the body; two different keys or none are 422."""
        first = client.post("/v1/kkt/receipt", json=SALE | {"idempotency_key": "body-1"})
        assert first.status_code == 200
        again = client.post("/v1/kkt/receipt", json=SALE | {"idempotency_key": "body-1"})
        assert again.content == first.content
        both = client.post("/v1/kkt/receipt", json=SALE | {"idempotency_key": "a"}, headers={"Idempotency-Key": "b"})
        assert (both.status_code, both.json()["detail"][0]["loc"]) == (422, ["body", "idempotency_key"])
        neither = client.post("/v1/kkt/receipt", json=SALE)
        assert (neither.status_code, neither.json()["detail"][0]["loc"]) == (422, ["header", "Idempotency-Key"])

    def test_buffer_status_speaks_the_erps_names(self, client: TestClient) -> None:
        """``buffer_percent``, ``buffer_count`` and ``cb_state`` repeat the status under the ERP widget's names."""
        post(client, "s", SALE)
        status = client.get("/v1/kkt/buffer/status").json()
        assert status["buffer_count"] == status["current_queued"] == 1
        assert status["buffer_percent"] == status["percent_full"]
        assert status["cb_state"] == "CLOSED"

    def test_fn_status(self, client: TestClient) -> None:
        """``GET /v1/kkt/fn`` shows the drive's validity and its unsent documents."""
        post(client, "s", SALE)
        fn = client.get("/v1/kkt/fn").json()
        assert fn["fn_number"] == FakeDriver.FN_NUMBER
        assert (fn["unsent_count"], fn["first_unsent_fd_number"]) == (1, 1)
        assert set(fn) >= {"validity_date", "ffd_version", "documents_count", "first_unsent_at", "warnings"}


def test_start_up_keeps_what_the_journal_has_and_the_buffer_lacks(tmp_path: Path) -> None:
    """Documents the device signed while the adapter was down are stored at start, before serving."""
    driver = FakeDriver()
    driver.open_shift(idempotency_key="while-down")
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=FakeClock(), driver=driver)) as client:
        assert client.get("/v1/kkt/buffer/status").json()["pending"] == 1
    assert [(r["fd_number"], r["doc_type"]) for r in buffer_rows(tmp_path)] == [(1, 2)]


@pytest.mark.parametrize("reference", [26577399298972236906496, "26577399298972236906496", 0])
def test_refund_check_of_an_impossible_fd_number_is_not_a_server_error(client: TestClient, reference: object) -> None:
    """An FD number is a uint32: a larger one is refused (422) or unknown (404), never a 500."""
    response = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": reference})
    assert response.status_code in (404, 422)
