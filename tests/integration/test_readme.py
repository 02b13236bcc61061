"""The README's promises, run as a newcomer would: `kkt-adapter serve` with defaults, the curl, the device CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from kkt_adapter.testing import wait_for
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.fiscal import QR_PATTERN

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_curl() -> tuple[str, dict[str, Any]]:
    """The Idempotency-Key and JSON body of the README's curl command."""
    text = README.read_text(encoding="utf-8")
    command = text[text.index("curl -s -X POST") :]
    key = re.search(r"-H 'Idempotency-Key: ([^']+)'", command)
    body = re.search(r"-d '(\{.*?\})'", command, re.DOTALL)
    assert key and body, "the README shows a curl with a key and a body"
    return key.group(1), json.loads(body.group(1))


def test_readme_starts_with_the_two_commands() -> None:
    """The README shows `make run` and `make test` first."""
    head = README.read_text(encoding="utf-8")[:600]
    assert "make run" in head
    assert "make test" in head


def test_readme_curl_prints_replays_and_syncs(tmp_path: Path) -> None:
    """With defaults (mock mode, no OFD URL) the README's curl prints a receipt whose QR string reads right, the same
    command again gets the same answer, the receipt goes from pending to synced, and /docs is served."""
    key, body = readme_curl()
    with AdapterProcess(tmp_path / "data") as adapter, httpx.Client(base_url=adapter.url, timeout=10) as http:
        first = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 200
        fiscal = first.json()["fiscal_doc"]
        match = QR_PATTERN.fullmatch(fiscal["qr_code_data"])
        assert match is not None
        assert match.group(2) == "100.00"
        assert match.group(3) == fiscal["fn_number"]
        assert int(match.group(4)) == fiscal["fiscal_doc_number"]
        assert match.group(5) == fiscal["fiscal_sign"]
        assert match.group(6) == "1"
        again = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert again.content == first.content
        receipt_url = f"/v1/kkt/receipt/{first.json()['receipt_id']}"
        wait_for(lambda: http.get(receipt_url).json()["state"] == "synced", what="sync to the embedded mock OFD")
        assert http.get("/v1/kkt/worker/status").json()["sync_mode"] == "embedded"
        assert http.get("/docs").status_code == 200
        assert http.get("/openapi.json").json()["info"]["title"] == "kkt-adapter"


def test_device_cli_switches_paper_out_for_the_running_adapter(tmp_path: Path) -> None:
    """`kkt-adapter device fault paper-out on` makes the running adapter answer 503 "paper out" and print nothing;
    after `... off` the same key prints."""
    key, body = readme_curl()
    data_dir = tmp_path / "data"

    def device(*args: str) -> None:
        command = [sys.executable, "-m", "kkt_adapter", "device", "--data-dir", str(data_dir / "kkt"), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    with (
        AdapterProcess(data_dir, env={"KKT_SYNC_ENABLED": "false"}) as adapter,
        httpx.Client(base_url=adapter.url, timeout=10) as http,
    ):
        device("fault", "paper-out", "on")
        refused = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert refused.status_code == 503
        assert refused.json()["error"] == "paper_out"
        assert http.get("/v1/health").status_code == 503
        device("fault", "paper-out", "off")
        printed = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert printed.status_code == 200
        status = http.get("/v1/kkt/buffer/status").json()
    assert (status["pending"], status["failed"]) == (1, 0)
