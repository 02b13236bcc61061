"""The operator's page with several KKTs behind the adapter: a row per device, and a device out of paper shown as
such while sales go to the other."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from browser.support import FAST, sale, screenshot
from kkt_adapter.testing import AdapterProcess, bodies
from kkt_emulators import MockOFDServer
from kkt_emulators.device import EmulatedKKT
from ready_device import ready_device

pytestmark = pytest.mark.slow


@pytest.fixture
def adapter(tmp_path: Path, ofd: MockOFDServer) -> Iterator[AdapterProcess]:
    """A real ``kkt-adapter serve`` with two emulated devices, ``main`` (the primary) and ``backup``, both ready."""
    data_dir = tmp_path / "data"
    devices = [{"name": name, "driver": "emulated"} for name in ("main", "backup")]
    for name in ("main", "backup"):
        ready_device(data_dir / f"kkt-{name}")
    env = FAST | {"KKT_OFD_API_URL": ofd.url, "KKT_DEVICES": json.dumps(devices)}
    with AdapterProcess(data_dir, env=env) as process:
        yield process


def test_each_device_has_a_row_and_a_device_out_of_paper_shows_it(page: Page, adapter: AdapterProcess) -> None:
    """Both devices are listed, the primary marked; with the primary out of paper a sale prints on the backup, the
    page shows the primary's problem, the backup still ok, and the verdict degraded (not unhealthy)."""
    page.goto("/ui")
    expect(page.get_by_test_id("devices")).to_be_visible()
    main, backup = page.get_by_test_id("device-main"), page.get_by_test_id("device-backup")
    expect(main).to_contain_text("main (primary)")
    expect(main).to_contain_text("ok")
    expect(backup).to_contain_text(re.compile(r"backup\s*emulated\s*ok"))
    with EmulatedKKT(adapter.data_dir / "kkt-main", print_delay_ms=0) as kkt:
        kkt.set_fault("paper_out", True)
    assert sale(adapter.url, "sold-on-backup")["device"] == "backup"
    expect(main).to_contain_text(re.compile("paper|бумаг", re.IGNORECASE))
    expect(backup).to_contain_text("ok")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-status", "degraded")


@pytest.mark.parametrize("locale", ["ru-RU"])
def test_paper_out_on_the_second_device_names_it_and_says_what_to_do(page: Page, adapter: AdapterProcess) -> None:
    """Device 2 of 2 out of paper: health lists the problem by its code with the device's name, and the page says in
    Russian which KKT needs paper while the other prints."""
    page.goto("/ui")
    expect(page.get_by_test_id("verdict")).to_have_text("Всё в порядке")
    with EmulatedKKT(adapter.data_dir / "kkt-backup", print_delay_ms=0) as kkt:
        kkt.set_fault("paper_out", True)
    reasons = page.get_by_test_id("reasons")
    expect(reasons).to_contain_text("Заправьте бумагу в ККТ «backup»; пока чеки печатает другая")
    expect(page.get_by_test_id("device-backup")).to_contain_text("нет бумаги")
    expect(page.get_by_test_id("verdict")).to_have_text("Работает, есть проблемы")
    problems = httpx.get(adapter.url + "/v1/health", timeout=5).json()["problems"]
    assert {
        "code": "device_paper_out",
        "severity": "degraded",
        "params": {"device": "backup", "detail": "paper out", "others_print": True},
    } in problems
    screenshot(page, "ui-ru-paper-out")


def _print_on(url: str, device: str, key: str, amount: str) -> str:
    body = bodies.sale(amount, name="Молоко 3,2%", device=device)
    answer = httpx.post(url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key}, timeout=10)
    assert answer.status_code == 200, answer.text
    receipt_id: str = answer.json()["receipt_id"]
    return receipt_id


def _shift_open(url: str, device: str) -> bool:
    is_open: bool = httpx.get(url + "/v1/kkt/shift", params={"device": device}, timeout=5).json()["open"]
    return is_open


def test_documents_show_their_device_and_filter_by_it(page: Page, adapter: AdapterProcess) -> None:
    """With two devices the list has a device column and a filter; the API's ``device=`` keeps one device's
    documents and refuses an unknown name."""
    on_main = _print_on(adapter.url, "main", "dev-main-1", "10.00")
    on_backup = _print_on(adapter.url, "backup", "dev-backup-1", "20.00")
    listed = httpx.get(adapter.url + "/v1/kkt/receipts", params={"device": "backup"}, timeout=5).json()
    assert [item["receipt_id"] for item in listed["items"]] == [on_backup] and listed["device"] == "backup"
    assert httpx.get(adapter.url + "/v1/kkt/receipts", params={"device": "nope"}, timeout=5).status_code == 422
    page.goto("/ui")
    expect(page.locator(f'#receipts tr[data-receipt-id="{on_backup}"]')).to_contain_text("backup")
    expect(page.locator(f'#receipts tr[data-receipt-id="{on_main}"]')).to_contain_text("main")
    page.get_by_test_id("device-filter").select_option("backup")
    expect(page.locator(f'#receipts tr[data-receipt-id="{on_main}"]')).to_have_count(0)
    expect(page.locator(f'#receipts tr[data-receipt-id="{on_backup}"]')).to_be_visible()


def test_x_and_z_reports_per_device_and_for_all(page: Page, adapter: AdapterProcess) -> None:
    """A device's row has its own X report and shift close, each with its own confirmation and result; the header's
    buttons run for every device, one result each."""
    _print_on(adapter.url, "backup", "xz-backup-1", "30.00")
    page.goto("/ui")
    backup = page.get_by_test_id("device-backup")
    expect(backup).to_be_visible()
    page.get_by_test_id("x-backup").click()
    report = page.get_by_test_id("report")
    expect(report.locator('[data-device="backup"]')).to_contain_text("sales ₽30.00")
    expect(report.locator(".report-part")).to_have_count(1)

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_test_id("z-backup").click()
    expect(page.get_by_test_id("message")).to_have_text("Shift closed.")
    assert "backup" in asked[0] and "main" not in asked[0]
    assert not _shift_open(adapter.url, "backup") and _shift_open(adapter.url, "main")
    expect(backup).to_contain_text("closed")

    page.once("dialog", accept)
    page.get_by_test_id("z-report").click()
    expect(page.get_by_test_id("message")).to_contain_text("Shifts closed: ")
    assert "main" in asked[1] and "backup" in asked[1]
    expect(report.locator(".report-part")).to_have_count(2)
    assert not _shift_open(adapter.url, "main")
    screenshot(page, "ui-en-devices")
