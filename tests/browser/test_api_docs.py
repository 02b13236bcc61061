"""The API's documentation works offline: ``/docs`` and ``/redoc`` render with every request that leaves the machine
blocked, from files installed with the adapter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from kkt_adapter.testing import AdapterProcess

pytestmark = pytest.mark.slow

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def offline(browser: Browser, adapter: AdapterProcess) -> Iterator[tuple[Page, list[str]]]:
    """A page whose every non-loopback request is aborted, and the list of those requests."""
    context = browser.new_context(base_url=adapter.url)
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    yield context.new_page(), blocked
    context.close()


def test_swagger_ui_renders_with_the_network_blocked(offline: tuple[Page, list[str]]) -> None:
    """``/docs`` shows the API's title and its operations with nothing fetched from elsewhere."""
    page, blocked = offline
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("kkt-adapter")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/v1/health")
    assert [url for url in blocked if url.endswith((".js", ".css"))] == []


def test_redoc_renders_with_the_network_blocked(offline: tuple[Page, list[str]]) -> None:
    """``/redoc`` shows the API's title and its operations, with the system's fonts (no Google Fonts)."""
    page, blocked = offline
    page.goto("/redoc")
    expect(page.get_by_role("heading", name=re.compile("kkt-adapter")).first).to_be_visible()
    expect(page.locator("body")).to_contain_text("/v1/health")
    # ReDoc's "powered by" badge tries its logo from its site; the page renders without it.
    assert [url for url in blocked if not url.endswith(".svg")] == []


def test_the_documentation_pages_name_no_outside_address(adapter: AdapterProcess) -> None:
    """Neither page refers to a CDN; an unknown documentation file is a 404."""
    for path in ("/docs", "/redoc"):
        text = httpx.get(adapter.url + path, timeout=5).text
        assert "cdn.jsdelivr" not in text and "fonts.googleapis" not in text
        assert "/docs/assets/" in text
    assert httpx.get(adapter.url + "/docs/assets/nope.js", timeout=5).status_code == 404
    assert (
        httpx.get(adapter.url + "/docs/assets/swagger-ui.css", timeout=5).headers["content-type"].startswith("text/css")
    )
