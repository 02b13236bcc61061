"""The operator's page is accessible: axe-core (installed by ``make test`` into tests/browser/axe/) finds no serious
or critical violation, in Russian and English, with a document open; every action is reachable by the keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from browser.support import sale
from kkt_adapter.testing import AdapterProcess

pytestmark = pytest.mark.slow

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def checked(browser: Browser, adapter: AdapterProcess, locale: str) -> Iterator[Page]:
    """A page that may take axe's script (the page's policy allows only its own scripts, so the test bypasses it)."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: `make test` installs it (npm ci in tests/browser/axe)")
    context = browser.new_context(base_url=adapter.url, locale=locale, bypass_csp=True)
    yield context.new_page()
    context.close()


def serious(page: Page) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now (WCAG 2 A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("locale", ["ru-RU", "en-GB"])
def test_axe_finds_no_serious_violation(checked: Page, adapter: AdapterProcess, locale: str) -> None:
    """The page with a document open and the engineer's folds open passes axe with nothing serious or critical."""
    printed = sale(adapter.url, f"axe-{locale}", "11609.12")
    page = checked
    page.goto("/ui")
    row = page.locator(f'#receipts tr[data-receipt-id="{printed["receipt_id"]}"]')
    row.click()
    expect(page.get_by_test_id("detail")).to_be_visible()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    assert serious(page) == []


def test_every_action_is_reachable_by_the_keyboard(checked: Page, adapter: AdapterProcess) -> None:
    """Tab reaches the language switch, the X and Z buttons, the search and a document's row; Enter opens it."""
    printed = sale(adapter.url, "axe-keys")
    page = checked
    page.goto("/ui")
    row = page.locator(f'#receipts tr[data-receipt-id="{printed["receipt_id"]}"]')
    expect(row).to_be_visible()
    reached: set[str] = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id || document.activeElement.dataset.receiptId || ''"))
        if printed["receipt_id"] in reached:
            break
    assert {"lang", "x-report", "z-report", "search-input", printed["receipt_id"]} <= reached
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("detail")).to_be_visible()
