"""Fixtures of the browser suite: a real adapter process against a mock OFD the test controls, and Debian's
``chromium`` driven by Playwright (no browser build is downloaded: ``make test`` installs the system package)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from browser.support import FAST
from kkt_adapter.testing import AdapterProcess
from kkt_emulators import MockOFDServer
from ready_device import ready_device

# Everything the page shows changes within a couple of refreshes (2 s each).
expect.set_options(timeout=10_000)


# Package scope: Playwright's sync API runs an event loop in this thread until it stops, which would break the
# asyncio tests collected after the browser tests.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium, shared by the suite."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def ofd() -> Iterator[MockOFDServer]:
    """A mock OFD on a free port that accepts everything until the test says otherwise."""
    with MockOFDServer(port=0) as server:
        yield server


@pytest.fixture
def adapter(tmp_path: Path, ofd: MockOFDServer) -> Iterator[AdapterProcess]:
    """A real ``kkt-adapter serve`` delivering to ``ofd``, its device in use (shift open, everything acknowledged)."""
    data_dir = tmp_path / "data"
    ready_device(data_dir / "kkt")
    with AdapterProcess(data_dir, env=FAST | {"KKT_OFD_API_URL": ofd.url}) as process:
        yield process


@pytest.fixture
def locale() -> str:
    """The browser's language: English for the suite's checks of words (a test asks for ``ru-RU`` to read Russian)."""
    return "en-GB"


@pytest.fixture
def page(browser: Browser, adapter: AdapterProcess, locale: str) -> Iterator[Page]:
    """A fresh browser page on the adapter in ``locale``; a script error on the page fails the test."""
    context = browser.new_context(
        base_url=adapter.url, viewport={"width": 1280, "height": 900}, locale=locale, timezone_id="Europe/Moscow"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"
