"""The operator's page with several KKTs behind the adapter: a row per device, and a device out of paper shown as
such while sales go to the other."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.support import FAST, sale, screenshot
from kkt_adapter.testing import AdapterProcess
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
