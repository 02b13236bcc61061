"""The adapter's HTTP API with the ATOL driver in front of a scripted fake of Web Requests: a sale prints once, an
outcome left unknown is settled by the key and never printed twice, a refusal is retried under the next attempt; and
``serve`` with the ATOL driver never loads the emulators."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter import create_app, load_settings
from kkt_adapter.devices.atol import AtolDriver, WebRequestsTransport
from kkt_adapter.testing import FakeClock, bodies
from kkt_clock import ManualClock

from .fake_server import FakeWebRequests

SALE = bodies.sale("179.80", items=[bodies.item("Молоко", "89.90", "2")])


@pytest.fixture
def server() -> FakeWebRequests:
    return FakeWebRequests()


def app_with(tmp_path: Path, server: FakeWebRequests) -> TestClient:
    """The adapter on ``tmp_path`` with an ATOL driver talking to ``server`` (a manual clock paces its polls)."""
    clock = ManualClock()
    transport = WebRequestsTransport("http://kkt.test:16732", transport=server.transport())
    driver = AtolDriver(transport, clock=clock, sleep=clock.advance, poll_interval=0.05, job_timeout=1.0)
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false", "KKT_DRIVER_TYPE": "atol"})
    return TestClient(create_app(settings, clock=FakeClock(), driver=driver))


@pytest.fixture
def client(tmp_path: Path, server: FakeWebRequests) -> Iterator[TestClient]:
    with app_with(tmp_path, server) as c:
        yield c


def post(client: TestClient, key: str, body: dict[str, Any] = SALE) -> Any:
    return client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})


def test_a_sale_over_the_api_prints_once_on_the_atol_kkt(client: TestClient, server: FakeWebRequests) -> None:
    """POST /v1/kkt/receipt prints one ``sell`` job with exact amounts; the replay answers the same body."""
    first = post(client, "k-1")
    assert first.status_code == 200, first.text
    fiscal = first.json()["fiscal_doc"]
    assert (fiscal["fiscal_doc_number"], fiscal["total"], fiscal["receipt_number"]) == (1, 179.8, 1)
    assert fiscal["qr_code_data"].startswith("t=20261129T1201&s=179.80&fn=")
    assert post(client, "k-1").content == first.content
    assert server.printing_jobs == ["sell"]
    assert client.get("/v1/kkt/shift").json()["open"] is True


def test_an_unknown_outcome_is_settled_by_the_key_and_printed_once(client: TestClient, server: FakeWebRequests) -> None:
    """A job still running at the timeout: 503 without a second print; once it is done, the resend of the key gets
    the document from the job (409, read), and the KKT holds one document."""
    server.in_progress = 1_000_000
    unknown = post(client, "k-2")
    assert unknown.status_code == 503
    assert server.printing_jobs == ["sell"]
    for job in server.jobs.values():
        job.running_polls = 0
    settled = post(client, "k-2")
    assert settled.status_code == 200, settled.text
    assert settled.json()["fiscal_doc"]["fiscal_doc_number"] == 1
    assert (len(server.documents), server.printing_jobs) == (1, ["sell"])


def test_start_up_reconciliation_asks_the_server_by_the_jobs_uuid(tmp_path: Path, server: FakeWebRequests) -> None:
    """A receipt left ``accepted`` (its job still running when the adapter stopped) is settled at the next start from
    the job read by its key's uuid: stored as printed, nothing printed again."""
    with app_with(tmp_path, server) as first:
        server.in_progress = 1_000_000
        assert post(first, "k-9").status_code == 503
    assert _states(tmp_path) == ["accepted"]
    for job in server.jobs.values():
        job.running_polls = 0
    with app_with(tmp_path, server) as again:
        assert _states(tmp_path) == ["pending"]
        replay = post(again, "k-9")
        assert replay.status_code == 200
        assert replay.json()["fiscal_doc"]["fiscal_doc_number"] == 1
    assert server.printing_jobs == ["sell"]


def _states(data_dir: Path) -> list[str]:
    conn = sqlite3.connect(data_dir / "buffer.sqlite3")
    try:
        return [row[0] for row in conn.execute("SELECT state FROM receipts WHERE doc_type = 3")]
    finally:
        conn.close()


def test_paper_out_is_refused_and_the_same_key_prints_after_it(client: TestClient, server: FakeWebRequests) -> None:
    """Paper out answers 503 ``paper_out`` with the device's text; the same key then prints once (attempt 1)."""
    server.refuse.append((44, "Нет бумаги"))
    refused = post(client, "k-3")
    assert refused.status_code == 503
    assert refused.json()["error"] == "paper_out"
    assert "Нет бумаги (ATOL error 44)" in refused.json()["detail"]
    printed = post(client, "k-3")
    assert printed.status_code == 200, printed.text
    assert len(server.documents) == 1


def test_serve_with_the_atol_driver_never_loads_the_emulators(tmp_path: Path) -> None:
    """The serve path with KKT_DRIVER_TYPE=atol builds its driver without importing kkt_emulators."""
    code = f"""
        import sys
        import kkt_adapter.cli
        import kkt_adapter.server
        from kkt_adapter import load_settings
        from kkt_adapter.devices.registry import make_driver
        from kkt_clock import SystemClock

        env = {{"KKT_DRIVER_TYPE": "atol", "KKT_MODE": "production", "KKT_DATA_DIR": {str(tmp_path)!r}}}
        settings = load_settings(env)
        make_driver(settings, SystemClock()).close()
        assert "kkt_emulators" not in sys.modules, sorted(n for n in sys.modules if "kkt_emulators" in n)
        print("clean")
        """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["clean"]


def test_a_resend_while_the_outcome_is_still_unknown_is_503_and_prints_nothing(
    client: TestClient, server: FakeWebRequests
) -> None:
    """The job still runs when the till resends its key: 503 (retry later), not a server error, nothing printed."""
    server.in_progress = 1_000_000
    assert post(client, "k-5").status_code == 503
    again = post(client, "k-5")
    assert again.status_code == 503, again.text
    assert "retry with the same Idempotency-Key" in again.json()["detail"]
    assert server.printing_jobs == ["sell"]


def test_start_up_with_an_outcome_still_unknown_leaves_the_receipt_for_later(
    tmp_path: Path, server: FakeWebRequests
) -> None:
    """A job still running at the next start does not stop the start: its receipt stays ``accepted`` and is settled
    once the job is done (here by the till's resend)."""
    with app_with(tmp_path, server) as first:
        server.in_progress = 1_000_000
        assert post(first, "k-7").status_code == 503
    with app_with(tmp_path, server) as again:
        assert again.get("/v1/health").status_code in (200, 503)
        assert _states(tmp_path) == ["accepted"]
        for job in server.jobs.values():
            job.running_polls = 0
        assert post(again, "k-7").status_code == 200
    assert server.printing_jobs == ["sell"]
