"""The alert rules and the dashboard on a real Prometheus watching a simulated chain of 20 stores on loopback."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from kkt_adapter.testing import bodies, wait_for
from kkt_adapter.testing.fleet import Fleet
from kkt_adapter.testing.process import free_port
from kkt_clock import ManualClock
from kkt_emulators import EmulatedKKT
from kkt_emulators.device.models import ReceiptTask, TaskItem

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "kkt-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "kkt-fleet.json"
STORES = 20
DAY = 86_400
#: Store 1: the OFD unreachable, its device's documents signed 4 days ago (its clock was moved); store 2: paper out.
OFD_DOWN, PAPER_OUT = 0, 1
EXPECTED = {OFD_DOWN: {"KktUnsentDocumentsOld", "KktOfdUnreachable"}, PAPER_OUT: {"KktPrinterFault"}}
#: The test copy of the rules: every ``for:`` a few evaluations, and the hour the OFD may be silent ten seconds.
SHORTER = {"for: 5m": "for: 2s", "> 3600": "> 10"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def tool(name: str) -> str:
    """The path of a Prometheus binary; the test fails (never skips) without it: `make test` installs it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install Debian's package prometheus (make test does it when missing)")
    return path


def short_rules(directory: Path) -> Path:
    """The shipped rules with :data:`SHORTER` applied, each replacement checked to have been made."""
    text = RULES.read_text(encoding="utf-8")
    for old, new in SHORTER.items():
        assert old in text, f"the rules no longer contain {old!r}"
        text = text.replace(old, new)
    path = directory / "kkt-alerts-fast.yml"
    path.write_text(text, encoding="utf-8")
    return path


def device_with_old_documents(state_dir: Path) -> None:
    """A device whose clock stood 4 days back: registered, a shift opened, a sale and the shift closed then, none of
    it acknowledged by the OFD but the registration."""
    clock = ManualClock(start_wall=time.time() - 4 * DAY)
    with EmulatedKKT(state_dir, print_delay_ms=0, clock=clock) as kkt:
        kkt.acknowledge(document.fd_number for document in kkt.journal(limit=10))
        kkt.open_shift()
        item = TaskItem(name="Хлеб", price_kop=5000, quantity=Decimal(1), sum_kop=5000, vat_code=1)
        kkt.print_receipt(ReceiptTask(operation=1, items=(item,), cash_kop=5000), idempotency_key="four-days-ago")
        clock.advance(3600)
        kkt.close_shift()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """20 stores; the first one's OFD is a closed port and its device's documents are 4 days old."""
    dead_ofd = f"http://127.0.0.1:{free_port()}"
    chain = Fleet(tmp_path / "fleet", STORES, store_env={OFD_DOWN: {"KKT_OFD_API_URL": dead_ofd}})
    device_with_old_documents(chain.stores[OFD_DOWN].device_dir)
    started = time.monotonic()
    try:
        chain.start()
        print(f"\n{STORES} adapters started in {time.monotonic() - started:.1f} s")
        yield chain
    finally:
        chain.stop()


@pytest.fixture
def prometheus(fleet: Fleet, tmp_path: Path) -> Iterator[str]:
    """A Prometheus on a free loopback port, scraping the fleet and evaluating the short rules every second."""
    binary = tool("prometheus")
    config = fleet.write_prometheus(
        rules=[short_rules(tmp_path)], scrape_interval="1s", evaluation_interval="1s", directory=tmp_path / "prom"
    )
    check = subprocess.run([tool("promtool"), "check", "config", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url), timeout=30, interval=0.2, what="prometheus ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/-/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def api(url: str, path: str, **params: str) -> Any:
    """A Prometheus HTTP API answer's ``data``."""
    body = httpx.get(url + path, params=params, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]


def firing(url: str) -> dict[str, set[str]]:
    """The firing kkt-adapter alerts' names, by the instance they are about."""
    alerts: dict[str, set[str]] = {}
    for alert in api(url, "/api/v1/alerts")["alerts"]:
        if alert["state"] == "firing":
            alerts.setdefault(alert["labels"].get("instance", ""), set()).add(alert["labels"]["alertname"])
    return alerts


def dashboard_queries() -> list[tuple[str, str]]:
    """Every panel's title and query, with the store picked as every store."""
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [
        (panel["title"], re.sub(r"\$instance\b", ".*", target["expr"]))
        for panel in panels
        for target in panel.get("targets", [])
    ]


def test_faults_in_two_stores_fire_their_alerts_and_the_others_stay_quiet(fleet: Fleet, prometheus: str) -> None:
    """A dead OFD with 4-day-old documents and a printer out of paper raise exactly their stores' alerts on a real
    Prometheus; the 18 other stores raise none, and every dashboard query returns series for the fleet."""
    began = time.monotonic()
    procs = [psutil.Process(pid) for pid in fleet.pids]
    cpu_before = sum(sum(p.cpu_times()[:2]) for p in procs)
    with httpx.Client(timeout=10) as client:
        for index, store in enumerate(fleet):
            for sale in range(2):
                key = {"Idempotency-Key": f"{store.name}-{sale}"}
                answer = client.post(store.adapter.url + "/v1/kkt/receipt", json=bodies.sale(), headers=key)
                assert answer.status_code == 200, (index, answer.text)
    device = fleet.stores[PAPER_OUT].device_dir
    command = [sys.executable, "-m", "kkt_adapter", "device", "--data-dir", str(device), "fault", "paper-out", "on"]
    subprocess.run(command, check=True, capture_output=True)
    instance = {index: fleet.stores[index].target for index in EXPECTED}

    def expected_firing() -> dict[str, set[str]] | None:
        alerts = firing(prometheus)
        return alerts if all(EXPECTED[i] <= alerts.get(instance[i], set()) for i in EXPECTED) else None

    alerts = wait_for(expected_firing, timeout=60, interval=0.5, what=f"alerts {EXPECTED} firing")
    print(f"expected alerts firing {time.monotonic() - began:.1f} s after the faults: {alerts}")
    quiet = {name: names for name, names in alerts.items() if name not in instance.values()}
    assert quiet == {}, f"alerts in stores without a fault: {quiet}"
    assert "KktUnsentDocumentsCritical" not in alerts[instance[OFD_DOWN]], "4 days are below the 25-day line"
    targets = {store.target for store in fleet}
    for title, expr in dashboard_queries():
        result = wait_for(
            lambda expr=expr: api(prometheus, "/api/v1/query", query=expr)["result"], timeout=20, what=title
        )
        seen = {series["metric"].get("instance") for series in result} - {None}
        assert seen <= targets, (title, seen - targets)
    days = api(prometheus, "/api/v1/query", query="kkt:days_to_fn_block:min")["result"]
    assert len(days) == STORES
    left = {series["metric"]["instance"]: float(series["value"][1]) for series in days}
    assert 25 < left[instance[OFD_DOWN]] < 26.5 and left[instance[PAPER_OUT]] == 30
    cpu = sum(sum(p.cpu_times()[:2]) for p in procs) - cpu_before
    rss = sum(p.memory_info().rss for p in procs)
    elapsed = time.monotonic() - began
    print(
        f"fleet of {STORES}: {rss / 2**20:.0f} MiB RSS in all ({rss / 2**20 / STORES:.0f} MiB each), "
        f"{cpu:.1f} s CPU over {elapsed:.1f} s ({100 * cpu / elapsed:.0f} % of one core) scraped every second"
    )
