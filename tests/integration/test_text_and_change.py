"""Catalogue text and cash with change through the HTTP API: the text policy (``KKT_TEXT_POLICY``) replaces what a
fiscal drive cannot store and says so, or refuses it listing every character; cash over the total is change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.testing import FakeClock, FakeDriver, bodies


class SpyDriver(FakeDriver):
    """A fake KKT that keeps the receipts it was asked to print, as the driver received them."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Receipt] = []

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        self.asked.append(receipt)
        return super().print_receipt(receipt, idempotency_key=idempotency_key)

    def print_correction(self, correction: Correction, *, idempotency_key: str) -> FiscalResult:
        self.asked.append(correction.receipt)
        return super().print_correction(correction, idempotency_key=idempotency_key)


@pytest.fixture
def driver() -> SpyDriver:
    return SpyDriver()


def make_client(tmp_path: Path, driver: FakeDriver, **env: str) -> TestClient:
    base = {"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"}
    settings = load_settings(base | {f"KKT_{k.upper()}": v for k, v in env.items()})
    return TestClient(create_app(settings, clock=FakeClock(), driver=driver))


@pytest.fixture
def client(tmp_path: Path, driver: SpyDriver) -> Iterator[TestClient]:
    with make_client(tmp_path, driver) as c:
        yield c


def post(client: TestClient, key: str, body: dict[str, Any], path: str = "/v1/kkt/receipt") -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


CATALOGUE_SALE = bodies.sale(
    items=[bodies.item("Оправа «Ray-Ban» RB5154 — 49×21\t", 12000), bodies.item("Салфетка…", 150)],
    payments=[bodies.payment(12150)],
    cashier={"name": "Петрова\u00a0А."},
)


def test_catalogue_text_is_printed_normalized_with_warnings(client: TestClient, driver: SpyDriver) -> None:
    """The driver gets CP866 text; the answer names each field and each substitution."""
    response = post(client, "k1", CATALOGUE_SALE)
    assert response.status_code == 200, response.text
    (receipt,) = driver.asked
    assert [item.name for item in receipt.items] == ['Оправа "Ray-Ban" RB5154 - 49x21', "Салфетка..."]
    assert receipt.cashier is not None and receipt.cashier.name == "Петрова А."
    warnings = response.json()["warnings"]
    assert {(w["field"], w["from"], w["to"], w["count"]) for w in warnings} == {
        ("items[0].name", "«", '"', 1),
        ("items[0].name", "»", '"', 1),
        ("items[0].name", "—", "-", 1),
        ("items[0].name", "×", "x", 1),
        ("items[0].name", "\t", " ", 1),
        ("items[1].name", "…", "...", 1),
        ("cashier.name", "\u00a0", " ", 1),
    }
    assert {w["code_point"] for w in warnings if w["from"] == "«"} == {"U+00AB"}
    assert "change" not in response.json()


def test_the_receipt_view_shows_the_text_as_sent_and_as_printed(client: TestClient) -> None:
    """The buffer keeps the text as sent; the receipt's view shows it beside the printed text."""
    receipt_id = post(client, "k1", CATALOGUE_SALE).json()["receipt_id"]
    view = client.get(f"/v1/kkt/receipt/{receipt_id}").json()
    shown = {entry["field"]: (entry["as_sent"], entry["printed"]) for entry in view["text_as_sent"]}
    assert shown == {
        "items[0].name": ("Оправа «Ray-Ban» RB5154 — 49×21\t", 'Оправа "Ray-Ban" RB5154 - 49x21'),
        "items[1].name": ("Салфетка…", "Салфетка..."),
        "cashier.name": ("Петрова\u00a0А.", "Петрова А."),
    }


def test_a_replay_answers_the_same_warnings_and_other_text_is_another_body(client: TestClient) -> None:
    """The replay is the identical bytes; the printed text sent under the same key is a different body."""
    first = post(client, "k1", CATALOGUE_SALE)
    assert post(client, "k1", CATALOGUE_SALE).content == first.content
    plain = bodies.sale(
        items=[bodies.item('Оправа "Ray-Ban" RB5154 - 49x21', 12000), bodies.item("Салфетка...", 150)],
        payments=[bodies.payment(12150)],
        cashier={"name": "Петрова А."},
    )
    assert post(client, "k1", plain).json()["error"] == "idempotency_conflict"
    second = post(client, "k2", plain)
    assert second.status_code == 200 and "warnings" not in second.json()


def test_a_correction_basis_number_is_normalized_too(client: TestClient, driver: SpyDriver) -> None:
    """A correction's texts, the basis number among them, take the same policy."""
    body = bodies.correction(correction_type="instruction", basis_number="ЕД–7–20/123")
    response = post(client, "c1", body, "/v1/kkt/correction")
    assert response.status_code == 200, response.text
    assert {w["field"] for w in response.json()["warnings"]} == {"basis_number"}


def test_strict_refuses_listing_every_character_of_every_field(tmp_path: Path, driver: SpyDriver) -> None:
    """KKT_TEXT_POLICY=strict: one 422 names each field and every character in it, with its code point."""
    with make_client(tmp_path, driver, text_policy="strict") as strict:
        response = post(strict, "k1", CATALOGUE_SALE)
    assert response.status_code == 422
    problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
    assert set(problems) == {("body", "items", 0, "name"), ("body", "items", 1, "name"), ("body", "cashier", "name")}
    assert problems[("body", "items", 0, "name")].endswith(
        "'«' (U+00AB), '»' (U+00BB), '—' (U+2014), '×' (U+00D7), '\\t' (U+0009)"
    )
    assert driver.asked == []


def test_cash_over_the_total_answers_the_change(client: TestClient, driver: SpyDriver) -> None:
    """A 100.00 sale paid 150.00 in cash prints, and the answer carries 50.00 change as a JSON number."""
    response = post(client, "k1", bodies.sale(payments=[bodies.payment(150)]))
    assert response.status_code == 200, response.text
    assert '"change":50.00' in response.text
    assert response.json()["fiscal_doc"]["total"] == 100
    assert driver.asked[0].paid("cash") == 15000


def test_card_and_cash_over_the_total_give_change_from_the_cash(client: TestClient) -> None:
    """Card 60.00 and cash 50.00 for 100.00: 10.00 change."""
    body = bodies.sale(payments=[bodies.payment(60, kind="card"), bodies.payment(50)])
    assert post(client, "k1", body).json()["change"] == 10


@pytest.mark.parametrize(
    "payments",
    [[bodies.payment("100.01", kind="card")], [bodies.payment(60, kind="card"), bodies.payment(50, kind="prepaid")]],
)
def test_non_cash_over_the_total_is_422(client: TestClient, driver: SpyDriver, payments: list[dict[str, Any]]) -> None:
    """Only cash may go over the total; nothing is printed otherwise."""
    response = post(client, "k1", bodies.sale(payments=payments))
    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [["body", "payments"]]
    assert driver.asked == []


@pytest.mark.parametrize("key", ["Заказ-000123", "ЗАК/2026/№45", "订单-7", "Заказ покупателя 000123", "x" * 128])
def test_an_erp_key_in_any_script_is_taken_in_the_body(client: TestClient, driver: SpyDriver, key: str) -> None:
    """The body's idempotency_key takes an ERP's order number in any script; a resend with it prints nothing new."""
    body = bodies.sale(idempotency_key=key)
    first = client.post("/v1/kkt/receipt", json=body)
    assert first.status_code == 200, first.text
    assert client.post("/v1/kkt/receipt", json=body).content == first.content
    assert len(driver.asked) == 1


@pytest.mark.parametrize("key", [" Заказ-1", "Заказ-1 ", "x" * 129, "a\u200bb", "a\tb", "a\u00a0b", ""])
def test_a_body_key_with_blanks_or_too_long_is_422(client: TestClient, key: str) -> None:
    """Spaces at an end, other blanks, invisible characters and more than 128 characters are refused, naming
    idempotency_key."""
    response = client.post("/v1/kkt/receipt", json=bodies.sale(idempotency_key=key))
    assert response.status_code == 422
    assert ["body", "idempotency_key"] in [p["loc"] for p in response.json()["detail"]]
