"""What is wrong and what to do, in plain words: the OFD down shows since when, what to check and the days left
before the fiscal drive blocks the KKT."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.support import sale, screenshot
from kkt_adapter.testing import AdapterProcess, wait_for
from kkt_emulators import MockOFDServer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("locale", ["ru-RU"])
def test_the_ofd_down_says_what_to_check_and_the_days_left(
    page: Page, adapter: AdapterProcess, ofd: MockOFDServer
) -> None:
    """After a delivered sale the OFD fails: the link reads "нет с <time>", documents wait, and the reason says to
    check the internet, how long the OFD has not answered and the days left before the FN blocks; breaker states
    stay in the engineer's fold."""
    first = sale(adapter.url, "ofd-ok-1")["receipt_id"]
    wait_for(
        lambda: httpx.get(f"{adapter.url}/v1/kkt/receipt/{first}", timeout=5).json()["state"] == "synced",
        what="the first sale delivered",
    )
    page.goto("/ui")
    expect(page.get_by_test_id("delivery-state")).to_have_text("есть")
    ofd.set_permanent_failure(True)
    sale(adapter.url, "ofd-down-1", "11609.12")
    expect(page.get_by_test_id("delivery-state")).to_contain_text("нет с ")
    expect(page.get_by_test_id("waiting")).to_have_text("1")
    reasons = page.get_by_test_id("reasons")
    expect(reasons).to_contain_text("Проверьте подключение к интернету: ОФД не отвечает")
    expect(reasons).to_contain_text("до блокировки ФН 29 дн.")
    expect(page.get_by_test_id("delivery-details")).not_to_have_attribute("open", "")
    expect(page.get_by_test_id("delivery-card")).not_to_contain_text("CLOSED", use_inner_text=True)
    problems = httpx.get(adapter.url + "/v1/health", timeout=5).json()["problems"]
    (down,) = [p for p in problems if p["code"] == "ofd_unreachable"]
    assert down["severity"] == "degraded" and down["params"]["days_left"] == 29
    assert down["params"]["since"] is not None
    screenshot(page, "ui-ru-ofd-down")
