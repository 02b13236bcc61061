"""The operator's page (``/ui``) in a real browser against a real adapter process and a mock OFD the test controls.

Every check waits for the page's own refresh (every 2 s) through Playwright's ``expect``: nothing sleeps.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Dialog, Page, Route, expect

from browser.support import sale, screenshot
from kkt_adapter.testing import AdapterProcess, wait_for
from kkt_emulators import MockOFDServer

pytestmark = pytest.mark.slow


def state_of(adapter: AdapterProcess, receipt_id: str) -> str:
    state: str = httpx.get(f"{adapter.url}/v1/kkt/receipt/{receipt_id}", timeout=5).json()["state"]
    return state


def test_page_shows_the_state_at_a_glance(page: Page, adapter: AdapterProcess) -> None:
    """A healthy adapter: the verdict, the buffer, the OFD delivery with the 30-day line, and the device's shift and
    fiscal drive, all from the v1 API."""
    page.goto("/ui")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-status", "healthy")
    expect(page.get_by_test_id("buffer-card")).to_contain_text("unsent")
    expect(page.get_by_test_id("delivery-card")).to_contain_text("the FN blocks the KKT at 30 days")
    expect(page.get_by_test_id("oldest-age")).to_have_text("nothing unsent")
    expect(page.get_by_test_id("breaker")).to_contain_text("CLOSED")
    expect(page.get_by_test_id("shift")).to_contain_text(re.compile(r"open #\d+ since \d\d/\d\d/\d{4}"))
    expect(page.get_by_test_id("device-card")).to_contain_text("FN valid until")
    expect(page.get_by_test_id("dlq-count")).to_have_text("0")
    expect(page.get_by_test_id("token-form")).to_be_hidden()
    expect(page.get_by_test_id("offline")).to_be_hidden()
    expect(page.get_by_test_id("devices")).to_be_hidden()  # one device: no devices table


def test_page_and_assets_are_served_from_the_package(adapter: AdapterProcess) -> None:
    """The page, its script and its stylesheet come from the adapter itself (no outside file), under a policy that
    lets the page run only its own script; unknown or odd asset names are 404s."""
    page = httpx.get(adapter.url + "/ui")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "/ui/assets/ui.js" in page.text and "http" not in page.text.split("<body>")[0]
    assert httpx.get(adapter.url + "/ui/assets/ui.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(adapter.url + "/ui/assets/ui.css").headers["content-type"].startswith("text/css")
    for name in ("nope.js", "..%2Fui.py", "index.html"):
        assert httpx.get(adapter.url + "/ui/assets/" + name).status_code == 404


def test_a_printed_receipt_appears_with_its_qr_code_and_detail(page: Page, adapter: AdapterProcess) -> None:
    """A sale printed through the API shows up among the latest documents, synced, with its FD number and a QR
    image that loads; clicking it shows its fiscal data, its delivery and its events."""
    page.goto("/ui")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-status", "healthy")
    printed = sale(adapter.url, "ui-qr-1", "123.45")
    receipt_id, fd_number = printed["receipt_id"], printed["fiscal_doc"]["fiscal_doc_number"]
    line = page.locator(f'#receipts tr[data-receipt-id="{receipt_id}"]')
    expect(line).to_have_attribute("data-state", "synced")
    expect(line).to_contain_text("₽123.45")
    expect(line).to_contain_text(str(fd_number))
    qr = line.get_by_test_id("qr")
    expect(qr).to_have_attribute("src", f"/v1/kkt/receipt/{receipt_id}/qr.svg")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    line.click()
    detail = page.get_by_test_id("detail")
    expect(detail).to_be_visible()
    expect(page.get_by_test_id("detail-state")).to_have_attribute("data-state", "synced")
    expect(detail).to_contain_text(printed["fiscal_doc"]["fiscal_sign"])
    expect(detail).to_contain_text("ui-qr-1")
    expect(detail).to_contain_text("OFD-")
    expect(page.get_by_test_id("detail-events")).to_contain_text("delivered")
    big = detail.get_by_test_id("qr")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=big.element_handle())


def test_search_finds_one_receipt_by_id_key_or_fd_number(page: Page, adapter: AdapterProcess) -> None:
    """A search by receipt id (or its beginning), idempotency key or FD number lists that receipt alone and opens
    it; clearing the search lists the latest documents again."""
    receipts = [sale(adapter.url, f"ui-search-{i}", f"{10 + i}.00") for i in range(3)]
    wanted = receipts[1]
    page.goto("/ui")
    expect(page.locator("#receipts tr")).not_to_have_count(0)
    queries = [
        wanted["receipt_id"],
        wanted["receipt_id"][:13],
        "ui-search-1",
        str(wanted["fiscal_doc"]["fiscal_doc_number"]),
    ]
    for query in queries:
        page.get_by_test_id("detail").evaluate("node => { node.hidden = true; }")
        page.get_by_test_id("search-input").fill(query)
        page.get_by_test_id("search-input").press("Enter")
        expect(page.locator("#receipts-title")).to_contain_text(f"“{query}”: 1 found")
        expect(page.locator("#receipts tr")).to_have_attribute("data-receipt-id", wanted["receipt_id"])
        expect(page.get_by_test_id("detail")).to_be_visible()
        expect(page.get_by_test_id("detail")).to_contain_text("ui-search-1")
    page.locator("#search-clear").click()
    expect(page.locator("#receipts-title")).to_have_text("Latest documents")
    expect(page.locator("#receipts tr")).not_to_have_count(1)


def test_a_failing_ofd_shows_and_a_requeued_dead_letter_is_delivered(
    page: Page, adapter: AdapterProcess, ofd: MockOFDServer
) -> None:
    """With the OFD failing the page says delivery is failing and the adapter degraded; the receipt lands in the
    DLQ after its two attempts; once the OFD is back, its Requeue button sends it again and it is synced."""
    first = sale(adapter.url, "ui-ok-1", "50.00")["receipt_id"]
    wait_for(lambda: state_of(adapter, first) == "synced", what="the first sale synced")
    ofd.set_permanent_failure(True)
    page.goto("/ui")
    printed = sale(adapter.url, "ui-dlq-1", "77.70")
    receipt_id = printed["receipt_id"]
    expect(page.get_by_test_id("delivery-state")).to_have_attribute("data-kind", "bad")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-status", "degraded")
    expect(page.get_by_test_id("reasons")).to_contain_text("Check the internet connection: the OFD does not answer")
    dead = page.locator(f'#dlq tr[data-receipt-id="{receipt_id}"]')
    expect(dead).to_contain_text("503")
    expect(page.get_by_test_id("dlq-count")).to_have_text("1")
    expect(page.locator(f'#receipts tr[data-receipt-id="{receipt_id}"]')).to_have_attribute("data-state", "dlq")
    page.locator(f'#receipts tr[data-receipt-id="{receipt_id}"]').click()
    expect(page.get_by_test_id("detail-requeue")).to_be_visible()
    expect(page.get_by_test_id("detail")).to_contain_text("503")
    screenshot(page, "ui")

    ofd.set_success()
    dead.get_by_test_id("requeue").click()
    expect(page.get_by_test_id("message")).to_contain_text("requeued")
    expect(page.get_by_test_id("dlq-count")).to_have_text("0")
    expect(page.locator(f'#receipts tr[data-receipt-id="{receipt_id}"]')).to_have_attribute("data-state", "synced")
    expect(page.get_by_test_id("detail-state")).to_have_attribute("data-state", "synced")
    expect(page.get_by_test_id("detail-requeue")).to_be_hidden()
    expect(page.get_by_test_id("delivery-state")).to_have_text("yes")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-status", "healthy")
    assert state_of(adapter, receipt_id) == "synced"


def test_reports_x_and_closing_the_shift_after_a_confirm(page: Page, adapter: AdapterProcess) -> None:
    """The X report button shows the shift's counters; the Z report button asks first (a refusal changes nothing),
    and once accepted closes the shift, which the page then shows as closed."""
    sale(adapter.url, "ui-z-1", "10.00")
    page.goto("/ui")
    expect(page.get_by_test_id("shift")).to_contain_text("open")
    page.get_by_test_id("x-report").click()
    expect(page.get_by_test_id("report")).to_contain_text("X report")
    expect(page.get_by_test_id("report")).to_contain_text("sales ₽10.00")

    asked: list[str] = []

    def refuse(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.get_by_test_id("z-report").click()
    expect(page.get_by_test_id("z-report")).to_be_enabled()
    assert asked and "Close shift" in asked[0]
    assert httpx.get(adapter.url + "/v1/kkt/shift").json()["open"] is True

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("z-report").click()
    expect(page.get_by_test_id("report")).to_contain_text("Z report")
    expect(page.get_by_test_id("shift")).to_contain_text("closed")
    assert httpx.get(adapter.url + "/v1/kkt/shift").json()["open"] is False


def test_a_401_asks_for_a_token_which_the_page_then_sends(page: Page, adapter: AdapterProcess) -> None:
    """When the API answers 401 the page shows a token input; the saved token goes out as ``Authorization: Bearer``
    on every call, QR images included (fetched with the header, shown from memory)."""
    printed = sale(adapter.url, "ui-token-1")
    token = "s3cret-token"
    unauthorized: list[str] = []

    def guard(route: Route) -> None:
        if route.request.headers.get("authorization") == f"Bearer {token}":
            route.continue_()
        else:
            unauthorized.append(route.request.url)
            route.fulfill(status=401, json={"detail": "a bearer token is required"})

    page.route("**/v1/**", guard)
    page.goto("/ui")
    expect(page.get_by_test_id("token-form")).to_be_visible()
    page.get_by_test_id("token-input").fill(token)
    page.get_by_test_id("token-input").press("Enter")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-status", "healthy")
    expect(page.get_by_test_id("token-form")).to_be_hidden()
    qr = page.locator(f'#receipts tr[data-receipt-id="{printed["receipt_id"]}"]').get_by_test_id("qr")
    expect(qr).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert unauthorized, "the page called the API without a token first"
    assert page.evaluate("localStorage.getItem('kkt-api-token')") == token


def test_receipts_endpoint_validates_and_orders_newest_first(adapter: AdapterProcess) -> None:
    """``GET /v1/kkt/receipts`` lists the newest first, keeps ``limit`` within 1–200 and matches the beginnings of
    keys only from 8 characters on; ``GET /v1/kkt/receipt/{id}/events`` lists the audit trail, 404 for an unknown
    id."""
    ids = [sale(adapter.url, f"ui-list-{i}", f"{i + 1}.00")["receipt_id"] for i in range(3)]
    listed = httpx.get(adapter.url + "/v1/kkt/receipts", params={"limit": 3}).json()
    assert [item["receipt_id"] for item in listed["items"]] == ids[::-1]
    assert listed["items"][0]["idempotency_key"] == "ui-list-2"
    for bad in (0, 201):
        assert httpx.get(adapter.url + "/v1/kkt/receipts", params={"limit": bad}).status_code == 422

    def found(q: str) -> list[str]:
        answer = httpx.get(adapter.url + "/v1/kkt/receipts", params={"q": q}).json()
        return [item["receipt_id"] for item in answer["items"]]

    assert found("ui-list-") == ids[::-1], "8 characters or more also match the beginnings of keys"
    assert found("ui-list") == [], "a shorter query matches whole values only"
    assert found("ui-list-1") == [ids[1]]
    assert httpx.get(adapter.url + "/v1/kkt/receipt/nope/events").status_code == 404
    events = httpx.get(f"{adapter.url}/v1/kkt/receipt/{ids[0]}/events").json()["items"]
    assert [event["to_state"] for event in events][:2] == ["accepted", "pending"]
