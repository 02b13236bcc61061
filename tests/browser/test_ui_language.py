"""The operator's page in the store's language: Russian by default, English on request, from one catalogue."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.support import sale, screenshot
from kkt_adapter.testing import AdapterProcess, bodies

pytestmark = pytest.mark.slow


def _spaces(text: str) -> str:
    """Intl writes its group separators as no-break spaces: compare them as plain ones."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize("locale", ["ru-RU"])
def test_a_russian_browser_reads_the_page_in_russian_with_rubles_and_dates(page: Page, adapter: AdapterProcess) -> None:
    """With the browser in Russian every fixed text, the verdict, money (``11 609,12 ₽``) and dates are Russian, and
    a refund is marked as a refund."""
    printed = sale(adapter.url, "ru-1", "11609.12")
    answer = httpx.post(
        adapter.url + "/v1/kkt/receipt",
        json=bodies.refund(printed["receipt_id"], "11609.12", name="Молоко 3,2%"),
        headers={"Idempotency-Key": "ru-refund-1"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    page.goto("/ui")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_test_id("verdict")).to_have_text("Всё в порядке")
    expect(page.get_by_test_id("x-report")).to_have_text("X-отчёт")
    expect(page.get_by_test_id("delivery-card")).to_contain_text("Передача в ОФД")
    line = page.locator(f'#receipts tr[data-receipt-id="{printed["receipt_id"]}"]')
    expect(line).to_contain_text("Приход")
    assert "11 609,12 ₽" in _spaces(line.inner_text())
    assert re.search(r"\d\d\.\d\d\.\d{4}", line.inner_text())
    refund = page.locator(f'#receipts tr[data-receipt-id="{answer.json()["receipt_id"]}"]')
    expect(refund.locator(".badge.refund")).to_have_text("Возврат прихода")
    line.click()  # the audit trail names its events in Russian too
    expect(page.get_by_test_id("detail-events").locator('td[data-kind="receipt"]').first).to_have_text(
        "смена состояния"
    )
    assert page.title().startswith("ККТ-адаптер")
    screenshot(page, "ui-ru")


def test_the_switch_turns_the_page_english_and_is_remembered(page: Page, adapter: AdapterProcess) -> None:
    """The language switch overrides the browser's language at once, and the choice survives a reload."""
    page.goto("/ui")
    expect(page.get_by_test_id("verdict")).to_have_text("All is well")
    page.get_by_test_id("lang").select_option("ru")
    expect(page.get_by_test_id("verdict")).to_have_text("Всё в порядке")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.reload()
    expect(page.get_by_test_id("x-report")).to_have_text("X-отчёт")
    assert page.evaluate("localStorage.getItem('kkt-lang')") == "ru"
    page.get_by_test_id("lang").select_option("en")
    expect(page.get_by_test_id("x-report")).to_have_text("X report")
    screenshot(page, "ui-en")


@pytest.mark.parametrize("locale", ["de-DE"])
def test_a_browser_in_another_language_reads_russian(page: Page, adapter: AdapterProcess) -> None:
    """Russian is the page's default: a browser that asks for neither Russian nor English gets it."""
    page.goto("/ui")
    expect(page.get_by_test_id("x-report")).to_have_text("X-отчёт")


def test_both_catalogues_hold_every_code_and_every_fixed_text_has_one(page: Page, adapter: AdapterProcess) -> None:
    """The Russian and English catalogues have the same codes, and every fixed text of the page names one of them
    (so no text is left in one language only)."""
    page.goto("/ui")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-status", re.compile("."))
    missing = page.evaluate(
        """async () => {
          const { CATALOGUE } = await import("/ui/assets/texts.js");
          const { ru, en } = CATALOGUE;
          const odd = [...Object.keys(ru).filter((k) => !(k in en)), ...Object.keys(en).filter((k) => !(k in ru))];
          for (const node of document.querySelectorAll("[data-t]")) {
            if (!(node.dataset.t in ru)) odd.push(node.dataset.t);
          }
          for (const [name, value] of Object.entries(ru)) {
            if (typeof value === "object" && Object.keys(value).join() !== Object.keys(en[name]).join()) odd.push(name);
          }
          return odd;
        }"""
    )
    assert missing == []
