"""The README's promises, run as a newcomer would: `kkt-adapter serve` with defaults, the curl, the device CLI."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kkt_adapter.testing import wait_for
from kkt_adapter.testing.process import AdapterProcess, free_port
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
        assert http.get(f"/v1/kkt/receipt/{printed.json()['receipt_id']}").json()["state"] == "pending"
    # The receipt, and the two documents a new device signs before it: its registration and the shift opening.
    assert (status["pending"], status["failed"]) == (3, 0)


def readme_day_curls() -> list[tuple[str, str, dict[str, str], Any]]:
    """The curl commands of the README's "A fiscal day": method, path, headers and JSON body (or None)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### A fiscal day") :]
    section = section[: section.index("\n## ")]
    commands = re.findall(r"^curl .*?(?=^curl |^```)", section, re.DOTALL | re.MULTILINE)
    parsed = []
    for command in commands:
        flat = command.replace("\\\n", " ")
        method = "POST" if "-X POST" in flat else "GET"
        path = re.search(r"http://127\.0\.0\.1:8000(\S+)", flat)
        headers = dict(h.split(": ", 1) for h in re.findall(r"-H '([^']+)'", flat))
        body = re.search(r"-d '(\{.*?\})'", flat, re.DOTALL)
        assert path is not None
        parsed.append((method, path.group(1), headers, None if body is None else body.group(1)))
    return parsed


def test_readme_fiscal_day(tmp_path: Path) -> None:
    """The README's day works as written: a sale, an X report, the refund check and the refund of that sale, the Z
    report, then the shift (closed) and the FN (validity, unsent documents)."""
    key, body = readme_curl()
    curls = readme_day_curls()
    assert [(m, p) for m, p, _, _ in curls] == [
        ("POST", "/v1/kkt/x_report"),
        ("POST", "/v1/pos/refund"),
        ("POST", "/v1/kkt/receipt"),
        ("POST", "/v1/kkt/z_report"),
        ("GET", "/v1/kkt/shift"),
        ("GET", "/v1/kkt/fn"),
    ]
    with AdapterProcess(tmp_path / "data") as adapter, httpx.Client(base_url=adapter.url, timeout=10) as http:
        sold = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key}).json()
        wait_for(lambda: http.get(f"/v1/kkt/receipt/{sold['receipt_id']}").json()["state"] == "synced", what="sync")
        answers = []
        for method, path, headers, data in curls:
            content = None if data is None else data.replace("<receipt_id>", sold["receipt_id"]).encode()
            response = http.request(method, path, headers=headers, content=content)
            assert response.status_code == 200, (path, response.text)
            answers.append(response.json())
    x, check, refund, z, shift, fn = answers
    assert (x["report"], x["receipts"]) == ("X", 1)
    assert check["allowed"] is True
    assert refund["fiscal_doc"]["receipt_number"] == 2
    assert (z["report"], z["receipts"], z["totals"]["by_operation"]["refund"]) == ("Z", 2, "100.00")
    assert shift["open"] is False
    assert fn["fn_number"] == sold["fiscal_doc"]["fn_number"]


def readme_commands() -> list[str]:
    """The three commands of the README's block with ``KKT_OFD_DELIVERY=device`` (comments stripped)."""
    text = README.read_text(encoding="utf-8")
    block = text[: text.index("KKT_OFD_DELIVERY=device kkt-adapter serve")]
    block = block[block.rindex("```sh") :] + "KKT_OFD_DELIVERY=device kkt-adapter serve"
    return [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.TransportError:
        return False


def test_readme_atol_device_delivery(tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    """The README's three terminals: the curl's sale prints on the ATOL emulator's FN through the adapter, the
    emulated KKT delivers it to the OFD, the adapter marks it ``synced`` without posting anything, and
    ``kkt-adapter device detect`` finds the Web Requests server."""
    ofd_line, atol_line, serve_line = readme_commands()
    ofd_port, atol_port = free_port(), free_port()
    assert ofd_line == "kkt-adapter emulate ofd --port 9000"
    assert atol_line == "kkt-adapter emulate atol --ofd-url http://127.0.0.1:9000"
    env = {key: value for key, value in os.environ.items() if not key.startswith("KKT_")}
    env["KKT_DATA_DIR"] = str(tmp_path / "emulators")
    cli = [sys.executable, "-m", "kkt_adapter"]
    ofd = shlex.split(ofd_line.replace("9000", str(ofd_port)))[1:]
    atol = [*shlex.split(atol_line.replace("9000", str(ofd_port)))[1:], "--port", str(atol_port)]
    for command in (ofd, atol):
        processes.append(subprocess.Popen(cli + command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL))
    ofd_url, atol_url = f"http://127.0.0.1:{ofd_port}", f"http://127.0.0.1:{atol_port}"
    wait_for(
        lambda: answers(ofd_url + "/ofd/v1/_test/stats") and answers(atol_url + "/api/v2/serverInfo"), what="emulators"
    )

    settings = dict(re.findall(r"(KKT_\w+)=(\S+)", serve_line))
    assert settings == {"KKT_DRIVER_TYPE": "atol", "KKT_OFD_DELIVERY": "device"}
    settings |= {"KKT_ATOL_URL": atol_url, "KKT_OFD_DEVICE_POLL_S": "0.1"}
    key, body = readme_curl()
    with AdapterProcess(tmp_path / "adapter", env=settings) as adapter, httpx.Client(timeout=10) as http:
        answer = http.post(adapter.url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert answer.status_code == 200, answer.text
        receipt_url = f"{adapter.url}/v1/kkt/receipt/{answer.json()['receipt_id']}"
        wait_for(lambda: http.get(receipt_url).json()["state"] == "synced", what="delivered by the KKT")
        assert http.get(adapter.url + "/v1/kkt/worker/status").json()["sync_mode"] == "device"
    stats = httpx.get(ofd_url + "/ofd/v1/_test/stats", timeout=5).json()
    (fn,) = stats["fn"].values()
    assert fn["last_fd"] == answer.json()["fiscal_doc"]["fiscal_doc_number"] and fn["gaps"] == []

    detect = subprocess.run(
        [*cli, "device", "detect", "--url", atol_url, "--sysfs", str(tmp_path / "no-sysfs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert detect.returncode == 0, detect.stdout + detect.stderr
    assert "serverVersion" in detect.stdout or "version" in detect.stdout.lower(), detect.stdout


def readme_shtrih_block() -> list[str]:
    """The two commands of the README's "A Shtrih-M KKT" block (comments stripped)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### A Shtrih-M KKT") :]
    block = section[section.index("```sh") + len("```sh") : section.index("```\n", section.index("```sh") + 5)]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_shtrih(tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    """The README's two terminals: the curl's sale prints on the Shtrih-M emulator's FN through the adapter, over the
    native protocol on TCP, and a resend of its key prints nothing more."""
    emulate_line, serve_line = readme_shtrih_block()
    assert emulate_line == "kkt-adapter emulate shtrih"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KKT_")}
    env["KKT_DATA_DIR"] = str(tmp_path / "emulators")
    command = [sys.executable, "-m", "kkt_adapter", *shlex.split(emulate_line)[1:], "--port", str(port)]
    processes.append(subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL))

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_for(listening, timeout=20, what="the Shtrih-M emulator")
    settings = dict(re.findall(r"(KKT_\w+)=(\S+)", serve_line))
    assert settings == {"KKT_DRIVER_TYPE": "shtrih"}
    settings |= {"KKT_SHTRIH_URL": f"tcp://127.0.0.1:{port}", "KKT_SYNC_ENABLED": "false"}
    key, body = readme_curl()
    with AdapterProcess(tmp_path / "adapter", env=settings) as adapter, httpx.Client(timeout=30) as http:
        answer = http.post(adapter.url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert answer.status_code == 200, answer.text
        again = http.post(adapter.url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert again.content == answer.content
        fn = http.get(adapter.url + "/v1/kkt/fn").json()
    assert fn["fn_number"] == answer.json()["fiscal_doc"]["fn_number"]
    assert fn["documents_count"] == answer.json()["fiscal_doc"]["fiscal_doc_number"]  # the sale is its last document


def readme_devices_block() -> list[str]:
    """The three commands of the README's "Several KKTs" block (comments stripped)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Several KKTs") :]
    block = section[section.index("```sh") + len("```sh") : section.index("```\n", section.index("```sh") + 5)]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_several_devices(tmp_path: Path) -> None:
    """The README's "Several KKTs" block as written: two emulated devices; the curl's sale prints on ``main``; with
    ``main`` out of paper (the device CLI) the next sale prints on ``backup``; ``/v1/kkt/devices`` shows both, the
    primary and its fault."""
    serve_line, fault_line, devices_line = readme_devices_block()
    assert serve_line.endswith(" kkt-adapter serve") and devices_line == "curl -s localhost:8000/v1/kkt/devices"
    (devices,) = re.findall(r"KKT_DEVICES='([^']+)'", serve_line)
    data_dir = tmp_path / "data"
    fault = shlex.split(fault_line)
    assert fault[:4] == ["kkt-adapter", "device", "--data-dir", "data/kkt-main"]
    key, body = readme_curl()
    env = {"KKT_DEVICES": devices, "KKT_SYNC_ENABLED": "false"}
    with AdapterProcess(data_dir, env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=10) as http:
        first = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 200, first.text
        assert first.json()["device"] == "main"
        command = [sys.executable, "-m", "kkt_adapter", "device", "--data-dir", str(data_dir / "kkt-main"), *fault[4:]]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        second = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key + "-2"})
        assert second.status_code == 200, second.text
        assert second.json()["device"] == "backup"
        assert second.json()["fiscal_doc"]["fn_number"] != first.json()["fiscal_doc"]["fn_number"]
        listed = http.get("/v1/kkt/devices").json()
    assert listed["primary"] == "main"
    main, backup = listed["devices"]
    assert (main["name"], main["primary"], backup["name"], backup["primary"]) == ("main", True, "backup", False)
    assert "paper_out" in main["faults"] and main["usable"] is False and backup["usable"] is True
