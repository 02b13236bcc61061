"""The shipped monitoring: the alert rules pass promtool's check and their unit tests, every alert says how bad, what
happened in both languages and what to do, and the metrics the rules and the dashboard read are exported."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import bodies
from kkt_adapter.testing.polling import wait_for
from kkt_emulators import EmulatedKKT

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "kkt-alerts.yml"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
DASHBOARD = ROOT / "deploy" / "grafana" / "kkt-fleet.json"


def promtool() -> str:
    """promtool's path; the test fails (never skips) without it: `make test` installs Debian's prometheus."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's package prometheus (make test does it when missing)")
    return path


def rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules() -> None:
    """``promtool check rules`` finds the rule file valid."""
    done = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_rule_unit_tests_pass() -> None:
    """``promtool test rules``: each alert fires on its case and stays silent on the near misses."""
    assert RULE_TESTS
    done = subprocess.run([promtool(), "test", "rules", *map(str, RULE_TESTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_says_how_bad_what_and_what_to_do() -> None:
    """Each alert has a severity, a summary in Russian and English and an action in both."""
    alerts = [rule for rule in rules() if "alert" in rule]
    assert len(alerts) >= 14
    for rule in alerts:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert {"summary_en", "summary_ru", "action_en", "action_ru"} <= set(rule["annotations"]), rule["alert"]
        assert re.search("[а-яА-Я]", rule["annotations"]["summary_ru"]), rule["alert"]


def test_every_alert_has_a_unit_test() -> None:
    """No alert is shipped without a promtool case that names it."""
    tested = {
        case["alertname"]
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
    }
    assert {rule["alert"] for rule in rules() if "alert" in rule} <= tested


def _settings(tmp_path: Path, check_interval: str) -> Any:
    return load_settings(
        {
            "KKT_DATA_DIR": str(tmp_path),
            "KKT_STORE": "Тверская 7",
            "KKT_TILL": "2",
            "KKT_EMULATOR_PRINT_DELAY_MS": "0",
            "KKT_SYNC_ENABLED": "false",
            "KKT_DEVICE_CHECK_INTERVAL": check_interval,
        }
    )


def _values(text: str) -> dict[str, float]:
    lines = text.splitlines()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in lines if not line.startswith("#")}


PAPER_OUT = 'kkt_device_fault{device="main",fault="paper_out"}'
CHECKED = 'kkt_device_checked_timestamp_seconds{device="main"}'


def exported(tmp_path: Path) -> str:
    """The /metrics text of an adapter with a store and till named, one sale printed and the paper out (seen by the
    periodic device check, every 50 ms here)."""
    with TestClient(create_app(_settings(tmp_path, "0.05"))) as client:
        assert client.post("/v1/kkt/receipt", json=bodies.sale(), headers={"Idempotency-Key": "k1"}).status_code == 200
        with EmulatedKKT(tmp_path / "kkt", print_delay_ms=0, create=False) as kkt:
            kkt.set_fault("paper_out", True)

        def paper_out_seen() -> str | None:
            text = client.get("/metrics").text
            return text if _values(text)[PAPER_OUT] == 1.0 else None

        return wait_for(paper_out_seen, timeout=10, interval=0.02, what="the periodic check to see the paper out")


def test_a_scrape_reports_devices_as_last_seen_without_asking_them(tmp_path: Path) -> None:
    """A scrape never asks a device (its cost does not grow with devices or scrapes, and it never queues behind a
    print): a fault appears after something looked at the device — here a health check, the periodic check being
    five minutes away — and the moment of that look is exported."""
    with TestClient(create_app(_settings(tmp_path, "300"))) as client:
        assert client.post("/v1/kkt/receipt", json=bodies.sale(), headers={"Idempotency-Key": "k1"}).status_code == 200
        first = _values(client.get("/metrics").text)
        with EmulatedKKT(tmp_path / "kkt", print_delay_ms=0, create=False) as kkt:
            kkt.set_fault("paper_out", True)
        again = _values(client.get("/metrics").text)
        assert again[PAPER_OUT] == 0.0 and again[CHECKED] == first[CHECKED] > 1.7e9, "the scrape asked the device"
        client.get("/v1/health")  # health asks an idle device afresh
        seen = _values(client.get("/metrics").text)
        assert seen[PAPER_OUT] == 1.0 and seen[CHECKED] > first[CHECKED]


def test_metrics_for_rules_are_exported(tmp_path: Path) -> None:
    """The info line names the store and till, moments are timestamps, the paper fault is a series set to 1."""
    text = exported(tmp_path)
    info = next(line for line in text.splitlines() if line.startswith("kkt_adapter_info{"))
    for label in ('store="Тверская 7"', 'till="2"', 'device="main"', 'driver="emulated"', 'mode="mock"'):
        assert label in info
    assert re.search(r'fn_number="\d+"', info) and re.search(r'registration_number="\d+"', info)
    value = _values(text)
    assert value[PAPER_OUT] == 1.0
    assert value['kkt_device_fault{device="main",fault="cover_open"}'] == 0.0
    assert value['kkt_shift_opened_timestamp_seconds{device="main"}'] > 1.7e9
    assert value['kkt_fn_valid_until_timestamp_seconds{device="main"}'] > value["kkt_adapter_start_time_seconds"]
    assert value["kkt_buffer_oldest_unsynced_timestamp_seconds"] > 1.7e9, "sync is off: the sale waits"
    assert "kkt_ofd_last_success_timestamp_seconds" not in value, "no OFD: no last answer to compare"


def test_rules_and_dashboard_read_only_exported_or_recorded_metrics(tmp_path: Path) -> None:
    """Every metric name a rule or a panel names is exported by the adapter, recorded by a rule, or Prometheus' own."""
    text = exported(tmp_path)
    names = set(re.findall(r"^# TYPE (\w+) (\w+)", text, re.M))
    known = {name for name, _ in names} | {f"{name}_total" for name, kind in names if kind == "counter"}
    known |= {rule["record"] for rule in rules() if "record" in rule} | {"up", "ALERTS"}
    known.add("kkt_ofd_last_success_timestamp_seconds")  # exported only when the adapter sends to an OFD
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    exprs = [rule["expr"] for rule in rules()] + [t["expr"] for p in panels for t in p.get("targets", [])]
    assert len(exprs) > 30
    for expr in exprs:
        for name in re.findall(r"\b(kkt[:_][\w:]+|up|ALERTS)\b(?!\s*\()", expr):
            assert name in known, (name, expr)
