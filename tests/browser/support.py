"""Helpers of the browser suite: the adapter's fast settings, a sale, and screenshots for the docs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page

from kkt_adapter.testing import bodies

#: Read at import: every test runs with the ``KKT_*`` variables removed (tests/conftest.py).
UPDATE_SCREENSHOTS = os.environ.get("KKT_UPDATE_SCREENSHOTS") == "1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

#: Retries and sync passes in fractions of a second; two failed attempts move a receipt to the DLQ, and the breaker
#: stays closed so that every failure is an attempt.
FAST = {
    "KKT_HLC_SYNC_INTERVAL": "0.05",
    "KKT_SYNC_BACKOFF_BASE": "0.01",
    "KKT_SYNC_BACKOFF_MAX": "0.1",
    "KKT_SYNC_MAX_ATTEMPTS": "2",
    "KKT_CIRCUIT_BREAKER_THRESHOLD": "100",
    "KKT_SYNC_LEASE_SECONDS": "5",
    "KKT_OFD_TIMEOUT": "2",
    "KKT_EMULATOR_PRINT_DELAY_MS": "0",
}


def sale(url: str, key: str, amount: str = "100.00") -> dict[str, Any]:
    """Print a one-line cash sale through the API; its answer (receipt id and fiscal data)."""
    body = bodies.sale(amount, name="Молоко 3,2%")
    response = httpx.post(url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key}, timeout=10)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def screenshot(page: Page, name: str) -> None:
    """Save the page as ``docs/screenshots/<name>.png``, only when ``KKT_UPDATE_SCREENSHOTS=1``."""
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
