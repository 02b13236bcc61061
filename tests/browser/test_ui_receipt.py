"""A document on the operator's page reads as a receipt: what was sold, how it was paid with the change, the cashier
and the customer's contact; a refund links to its sale."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.support import screenshot
from kkt_adapter.testing import AdapterProcess, bodies

pytestmark = pytest.mark.slow

LINES = [
    bodies.item("Молоко 3,2%", "89.90", 2, vat_rate=10),
    bodies.item("Яблоки", "120.00", "1.5", vat_rate=20, measure="kg", payment_object="commodity"),
]
#: 179.80 + 180.00 = 359.80, paid 300.00 by card and 100.00 in cash: 40.20 change.
PAYMENTS = [bodies.payment("300.00", kind="card"), bodies.payment("100.00")]


def post(url: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    answer = httpx.post(url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key}, timeout=10)
    assert answer.status_code == 200, answer.text
    printed: dict[str, Any] = answer.json()
    return printed


def _spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize("locale", ["ru-RU"])
def test_a_sale_shows_as_a_receipt_and_its_refund_links_to_it(page: Page, adapter: AdapterProcess) -> None:
    """Two lines paid by card and cash with change, a cashier and a contact: the open document lists the lines with
    quantity, measure, price, VAT and sum, the payments and the change, the cashier and the contact; the refund of one
    line shows its sale as a link that opens the sale."""
    body = bodies.sale(
        "359.80",
        items=LINES,
        payments=PAYMENTS,
        cashier={"name": "Иванова А."},
        customer_contact="buyer@example.ru",
    )
    sale = post(adapter.url, body, "receipt-sale-1")
    view = httpx.get(f"{adapter.url}/v1/kkt/receipt/{sale['receipt_id']}", timeout=5).json()
    assert view["content"]["change"] == "40.20"
    assert [line["measure"] for line in view["content"]["items"]] == ["piece", "kg"]
    page.goto("/ui")
    page.locator(f'#receipts tr[data-receipt-id="{sale["receipt_id"]}"]').click()
    lines = page.get_by_test_id("receipt-items")
    expect(lines).to_contain_text("Молоко 3,2%")
    expect(lines.locator("tbody tr")).to_have_count(2)
    text = _spaces(lines.inner_text())
    assert "2 шт" in text and "1,5 кг" in text and "89,90 ₽" in text and "179,80 ₽" in text and "10%" in text
    summary = page.get_by_test_id("receipt-summary")
    expect(summary).to_contain_text("Иванова А.")
    expect(summary).to_contain_text("buyer@example.ru")
    payments = _spaces(page.get_by_test_id("receipt-payments").inner_text())
    assert payments == "300,00 ₽ картой + 100,00 ₽ наличными"
    assert "40,20 ₽" in _spaces(summary.inner_text())
    screenshot(page, "ui-ru-receipt")

    refund = post(
        adapter.url,
        bodies.refund(sale["receipt_id"], "179.80", items=[LINES[0]], payments=[bodies.payment("179.80")]),
        "receipt-refund-1",
    )
    page.get_by_test_id("search-input").fill(refund["receipt_id"])
    page.get_by_test_id("search-input").press("Enter")
    expect(page.get_by_test_id("detail")).to_have_attribute("data-state", "synced")
    expect(page.locator("#detail-id")).to_have_text(refund["receipt_id"])
    link = page.get_by_test_id("refund-of")
    expect(link).to_have_text(sale["receipt_id"])
    link.click()
    expect(page.locator("#detail-id")).to_have_text(sale["receipt_id"])
    expect(page.get_by_test_id("receipt-items").locator("tbody tr")).to_have_count(2)
