"""Several KKTs behind one adapter, seen from outside: shift endpoints per device, what ``/v1/kkt/devices``, health
and ``/metrics`` show of each device, delivery of both FNs' documents; then a real ``kkt-adapter serve`` on two
devices, and wrong ``KKT_DEVICES`` entries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from integration.devices_support import (
    SALE,
    device_view,
    emulated,
    receipts_by_key,
    sell,
    set_fault,
    start,
    two_devices_env,
)
from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import AdapterProcess, wait_for
from kkt_emulators.device import DOC_SHIFT_CLOSING, DOC_SHIFT_OPENING, EmulatedKKT
from kkt_emulators.ofd import MockOFDServer
from ready_device import fn_number, journal

# -- shift endpoints ----------------------------------------------------------------------------------------------


def test_shift_endpoints_act_on_the_named_device_only(client: TestClient, main: Path, backup: Path) -> None:
    """Closing, opening, the X and Z reports and the FN's status with ``?device=backup`` concern the backup alone;
    without it, the primary; every answer names its device."""
    main_before = journal(main)
    closed = client.post("/v1/kkt/shift/close?device=backup", headers={"Idempotency-Key": "z-1"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["device"] == "backup"
    assert journal(backup)[-1].doc_type == DOC_SHIFT_CLOSING
    assert closed.json()["fiscal_doc_number"] == journal(backup)[-1].fd_number
    backup_shift = client.get("/v1/kkt/shift?device=backup").json()
    main_shift = client.get("/v1/kkt/shift").json()
    assert (backup_shift["device"], backup_shift["open"]) == ("backup", False)
    assert (main_shift["device"], main_shift["open"]) == ("main", True)

    opened = client.post("/v1/kkt/shift/open?device=backup", headers={"Idempotency-Key": "open-2"})
    assert opened.status_code == 200, opened.text
    assert (opened.json()["device"], opened.json()["shift_number"]) == ("backup", 2)
    assert journal(backup)[-1].doc_type == DOC_SHIFT_OPENING
    x = client.post("/v1/kkt/x_report?device=backup")
    assert x.status_code == 200, x.text
    assert (x.json()["device"], x.json()["shift_number"]) == ("backup", 2)
    z = client.post("/v1/kkt/z_report?device=backup", headers={"Idempotency-Key": "z-2"})
    assert z.status_code == 200, z.text
    assert (z.json()["device"], z.json()["shift_number"]) == ("backup", 2)

    fn_backup = client.get("/v1/kkt/fn?device=backup").json()
    fn_main = client.get("/v1/kkt/fn").json()
    assert (fn_backup["device"], fn_backup["fn_number"]) == ("backup", fn_number(backup))
    assert (fn_main["device"], fn_main["fn_number"]) == ("main", fn_number(main))
    assert journal(main) == main_before, "the primary printed nothing"
    assert client.get("/v1/kkt/shift").json()["open"] is True


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/kkt/shift"),
        ("POST", "/v1/kkt/shift/open"),
        ("POST", "/v1/kkt/shift/close"),
        ("POST", "/v1/kkt/z_report"),
        ("POST", "/v1/kkt/x_report"),
        ("GET", "/v1/kkt/fn"),
    ],
)
def test_a_shift_endpoint_naming_an_unknown_device_is_422(
    client: TestClient, main: Path, backup: Path, method: str, path: str
) -> None:
    """``?device=nope`` on a shift or report endpoint: 422 at ``device``, and neither device prints anything."""
    before = (journal(main), journal(backup))
    response = client.request(method, f"{path}?device=nope", headers={"Idempotency-Key": "x1"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "device"]
    assert (journal(main), journal(backup)) == before


# -- what is seen from outside -------------------------------------------------------------------------------------


def test_devices_view_lists_both_and_the_primarys_paper_out(client: TestClient, main: Path, backup: Path) -> None:
    """``GET /v1/kkt/devices``: both devices, the primary flagged; with the primary out of paper it shows the
    fault, the problem, that it cannot print, and after a sale moved away, its last refusal."""
    body = client.get("/v1/kkt/devices").json()
    assert body["primary"] == "main"
    assert [(d["name"], d["primary"], d["driver"]) for d in body["devices"]] == [
        ("main", True, "emulated"),
        ("backup", False, "emulated"),
    ]
    assert all(d["usable"] and d["problem"] is None and d["faults"] == [] for d in body["devices"])
    assert all(d["shift"]["open"] for d in body["devices"])
    assert body["devices"][0]["fn"]["number"] == fn_number(main)

    set_fault(main, "paper_out")
    assert sell(client, "k1")["device"] == "backup"
    view = wait_for(
        lambda: (found := device_view(client, "main"))["faults"] == ["paper_out"] and found,
        timeout=5,
        what="the primary's paper out in the devices view",
    )
    assert view["usable"] is False
    assert view["problem"]
    assert view["last_refusal"]["code"] == "paper_out"
    other = device_view(client, "backup")
    assert other["usable"] is True
    assert other["last_document"]["fd_number"] == journal(backup)[-1].fd_number


def test_with_one_device_the_devices_view_lists_it_as_main(tmp_path: Path) -> None:
    """Without KKT_DEVICES the adapter has one device named ``main``: the devices view lists it as the primary,
    and health keeps its single-device shape."""
    data_dir = tmp_path / "data"
    env = {"KKT_DATA_DIR": str(data_dir), "KKT_SYNC_ENABLED": "false", "KKT_EMULATOR_PRINT_DELAY_MS": "0"}
    with TestClient(create_app(load_settings(env))) as client:
        assert sell(client, "k1")["device"] == "main"
        body = client.get("/v1/kkt/devices").json()
        assert body["primary"] == "main", body
        assert [(d["name"], d["primary"], d["usable"]) for d in body["devices"]] == [("main", True, True)]
        assert body["devices"][0]["fn"]["number"] == fn_number(data_dir / "kkt")
        assert client.get("/v1/health").json()["status"] == "healthy"


def test_health_is_degraded_with_one_device_down_and_unhealthy_with_none(
    client: TestClient, main: Path, backup: Path
) -> None:
    """Backup offline: degraded, naming the backup; primary out of paper as well: unhealthy (503), no device can
    print; ``components.devices`` has both, ``components.device`` stays the primary's."""
    health = client.get("/v1/health").json()
    assert health["status"] == "healthy", health["reasons"]
    devices = health["components"]["devices"]
    assert {name: d["primary"] for name, d in devices.items()} == {"main": True, "backup": False}

    set_fault(backup, "offline")
    degraded = wait_for(
        lambda: (body := client.get("/v1/health").json())["status"] == "degraded" and body,
        timeout=5,
        what="health degraded by the backup",
    )
    assert any(reason.startswith("device backup: ") for reason in degraded["reasons"]), degraded["reasons"]
    set_fault(main, "paper_out")
    response = wait_for(
        lambda: (answer := client.get("/v1/health")).status_code == 503 and answer,
        timeout=5,
        what="health unhealthy with no device",
    )
    unhealthy = response.json()
    assert unhealthy["status"] == "unhealthy"
    assert any(reason.startswith("no device can print") for reason in unhealthy["reasons"]), unhealthy["reasons"]
    primary, listed = unhealthy["components"]["device"], unhealthy["components"]["devices"]
    assert (primary["fn_number"], primary["paper"]) == (fn_number(main), False), "the primary's, out of paper"
    assert (listed["main"]["fn_number"], listed["main"]["paper"]) == (fn_number(main), False)
    assert (listed["backup"]["fn_number"], listed["backup"]["status"]) == (fn_number(backup), "error")


def metric_samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics`` by its name and sorted labels."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_are_labelled_by_device(data_dir: Path, main: Path, backup: Path) -> None:
    """``/metrics``: each device's up, printed, refusals by code, failovers from and to, its FN's unsent count."""
    with start(data_dir, KKT_OFD_DEVICE_POLL_S="0.05") as client:
        sell(client, "k1")
        set_fault(main, "paper_out")
        sell(client, "k2")
        sell(client, "k3")

        def sample(name: str, *labels: tuple[str, str]) -> float | None:
            return metric_samples(client).get((name, tuple(sorted(labels))))

        wait_for(lambda: sample("kkt_device_up", ("device", "main")) == 0.0, timeout=5, what="main down in /metrics")
        assert sample("kkt_device_up", ("device", "backup")) == 1.0
        assert sample("kkt_device_printed_total", ("device", "main")) == 1.0
        assert sample("kkt_device_printed_total", ("device", "backup")) == 2.0
        assert sample("kkt_device_refusals_total", ("device", "main"), ("code", "paper_out")) == 2.0
        assert sample("kkt_device_failovers_total", ("from_device", "main"), ("to_device", "backup")) == 2.0
        for name, directory in (("main", main), ("backup", backup)):
            with EmulatedKKT(directory, print_delay_ms=0, create=False) as kkt:
                unsent = kkt.fn_status().unsent_count
            wait_for(
                lambda name=name, unsent=unsent: sample("kkt_device_fn_unsent_documents", ("device", name)) == unsent,
                timeout=5,
                what=f"the unsent documents of {name}'s FN ({unsent}) in /metrics",
            )


# -- delivery to the OFD -------------------------------------------------------------------------------------------


def unsent_on(directory: Path) -> int:
    with EmulatedKKT(directory, print_delay_ms=0, create=False) as kkt:
        return kkt.fn_status().unsent_count


def test_every_fns_documents_reach_the_ofd_and_each_fn_gets_its_acknowledgements(
    data_dir: Path, main: Path, backup: Path, mock_ofd_server: MockOFDServer
) -> None:
    """Delivery over HTTP with two devices: every document of both FNs reaches the OFD, every receipt becomes
    synced, and each FN is told of its own documents' acknowledgements (nothing left unsent on either)."""
    env = {
        "KKT_SYNC_ENABLED": "true",
        "KKT_OFD_API_URL": mock_ofd_server.url,
        "KKT_HLC_SYNC_INTERVAL": "0.05",
        "KKT_OFD_DEVICE_POLL_S": "0.05",
    }
    with start(data_dir, **env) as client:
        printed = [sell(client, "k1"), sell(client, "k2", device="backup")]
        for answer in printed:
            wait_for(
                lambda answer=answer: client.get(f"/v1/kkt/receipt/{answer['receipt_id']}").json()["state"] == "synced",
                timeout=10,
                what=f"{answer['device']}'s receipt synced",
            )
        for directory in (main, backup):
            wait_for(lambda directory=directory: unsent_on(directory) == 0, timeout=10, what=f"{directory.name} acked")
    documents = [body["fiscal_document"] for body in mock_ofd_server.get_received_receipts()]
    received = [(document["1041"], document["1040"]) for document in documents]
    expected = {(fn_number(directory), d.fd_number) for directory in (main, backup) for d in journal(directory)}
    assert set(received) == expected, "every document of both FNs"


def test_with_delivery_by_the_device_each_device_is_tracked(data_dir: Path, main: Path, backup: Path) -> None:
    """``KKT_OFD_DELIVERY=device`` with two devices: a receipt becomes synced when its own FN reports it sent,
    whichever device printed it."""
    env = {"KKT_SYNC_ENABLED": "true", "KKT_OFD_DELIVERY": "device", "KKT_OFD_DEVICE_POLL_S": "0.05"}
    with start(data_dir, **env) as client:
        on_main, on_backup = sell(client, "k1"), sell(client, "k2", device="backup")

        def state(answer: dict[str, Any]) -> str:
            return str(client.get(f"/v1/kkt/receipt/{answer['receipt_id']}").json()["state"])

        with EmulatedKKT(backup, print_delay_ms=0, create=False) as kkt:
            kkt.acknowledge(d.fd_number for d in kkt.journal(limit=1_000))
        wait_for(lambda: state(on_backup) == "synced", timeout=10, what="the backup's receipt synced")
        assert state(on_main) == "pending", "the primary's FN has not sent it"
        with EmulatedKKT(main, print_delay_ms=0, create=False) as kkt:
            kkt.acknowledge(d.fd_number for d in kkt.journal(limit=1_000))
        wait_for(lambda: state(on_main) == "synced", timeout=10, what="the primary's receipt synced")


# -- a real process -----------------------------------------------------------------------------------------------


def device_cli(directory: Path, *args: str) -> None:
    """``kkt-adapter device --data-dir DIR ...`` in its own process, as an operator would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KKT_")}
    command = [sys.executable, "-m", "kkt_adapter", "device", "--data-dir", str(directory), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_a_real_process_fails_over_on_a_fault_switched_from_the_cli(data_dir: Path, main: Path, backup: Path) -> None:
    """``kkt-adapter serve`` with KKT_DEVICES: paper out switched on the primary by ``kkt-adapter device`` from
    another process moves the next sale to the backup; switched off, sales print on the primary again."""
    env = two_devices_env(data_dir)
    with AdapterProcess(data_dir, env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:

        def sell_over_http(key: str) -> dict[str, Any]:
            response = http.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": key})
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer

        assert sell_over_http("k1")["device"] == "main"
        device_cli(main, "fault", "paper-out", "on")
        assert sell_over_http("k2")["device"] == "backup"
        device_cli(main, "fault", "paper-out", "off")
        assert sell_over_http("k3")["device"] == "main"
        assert [d["name"] for d in http.get("/v1/kkt/devices").json()["devices"]] == ["main", "backup"]
    assert set(receipts_by_key(main)) == {"k1", "k3"}
    assert set(receipts_by_key(backup)) == {"k2"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ({"name": "back up", "driver": "emulated"}, "KKT_DEVICES[1].name: "),
        ({"name": "backup", "driver": "serial"}, "KKT_DEVICES[1].driver: "),
        ({"name": "main", "driver": "emulated"}, "given more than once: main"),
        ({"name": "backup", "driver": "atol", "url": "ftp://kkt"}, "KKT_DEVICES[1].url"),
    ],
    ids=["bad-name", "unknown-driver", "duplicate-name", "atol-url"],
)
def test_a_wrong_devices_entry_stops_the_start_naming_it(tmp_path: Path, second: dict[str, str], expected: str) -> None:
    """A wrong second entry of KKT_DEVICES: ``kkt-adapter serve`` exits with 2 and says which entry and field."""
    devices = json.dumps([emulated(tmp_path, "main"), second])
    env = {k: v for k, v in os.environ.items() if not k.startswith("KKT_")}
    env |= {"KKT_DATA_DIR": str(tmp_path / "data"), "KKT_DEVICES": devices}
    command = [sys.executable, "-m", "kkt_adapter", "serve"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir()), "nothing was started"
