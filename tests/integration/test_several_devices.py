"""Several KKTs behind one adapter (in-process app, two emulated devices): failover of sales on a device's refusal
and back, a sale or correction naming its device, content rejections kept where they are, refunds following their
sale, shift endpoints per device, what ``/v1/kkt/devices``, health and ``/metrics`` show of each device, and delivery
of both FNs' documents; then a real ``kkt-adapter serve`` on two devices, and wrong ``KKT_DEVICES`` entries.

Faults are switched on each device's own emulated state, as an operator's CLI would; what was printed where is read
from each device's own journal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from integration.devices_support import (
    SALE,
    assert_continuous,
    device_view,
    emulated,
    events,
    fn_number,
    journal,
    post,
    ready,
    receipts_by_key,
    set_fault,
    state_dir,
    two_devices_env,
)
from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import AdapterProcess, FakeClock, wait_for
from kkt_emulators.device import DOC_CORRECTION, DOC_SHIFT_CLOSING, DOC_SHIFT_OPENING, EmulatedKKT
from kkt_emulators.ofd import MockOFDServer

#: ``main`` is registered under OSN and refuses a sale under USN; ``backup``, registered under USN income, prints it
#: (and, like ``main``, a sale that names no taxation system, under its own).
USN_SALE: dict[str, Any] = SALE | {"taxation": "usn_income"}
#: A sale of three, so that it can be refunded one at a time.
SALE_OF_THREE: dict[str, Any] = SALE | {
    "items": [{"name": "Test Product", "price": 100, "quantity": 3, "vat_rate": 20}],
    "payments": [{"type": "cash", "amount": 300}],
}
CORRECTION: dict[str, Any] = SALE | {"correction_type": "self", "basis_date": "2025-11-30"}


def refund_of(receipt_id: str) -> dict[str, Any]:
    """A refund of one of ``SALE_OF_THREE``'s items, naming the sale."""
    return SALE | {"type": "refund", "original_receipt_id": receipt_id}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    ready(state_dir(data, "main"))
    ready(state_dir(data, "backup"), taxation=2)  # USN income
    return data


@pytest.fixture
def main(data_dir: Path) -> Path:
    return state_dir(data_dir, "main")


@pytest.fixture
def backup(data_dir: Path) -> Path:
    return state_dir(data_dir, "backup")


def start(data_dir: Path, **extra: str) -> TestClient:
    return TestClient(create_app(load_settings(two_devices_env(data_dir, **extra))))


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with start(data_dir) as c:
        yield c


def sell(client: TestClient, key: str, body: dict[str, Any] = SALE, *, device: str | None = None) -> dict[str, Any]:
    response = post(client, key, body, device=device)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def fd(answer: dict[str, Any]) -> int:
    return int(answer["fiscal_doc"]["fiscal_doc_number"])


def stored_state(client: TestClient, key: str) -> str | None:
    """The buffer row's state for ``key`` (``None``: nothing stored)."""
    row = client.app.state.adapter.buffer.get_by_key(key)  # type: ignore[attr-defined]
    return None if row is None else str(row.state.value)


def receipt_id_of(client: TestClient, key: str) -> str:
    row = client.app.state.adapter.buffer.get_by_key(key)  # type: ignore[attr-defined]
    assert row is not None, f"no row for {key}"
    return str(row.receipt_id)


def failovers(client: TestClient, receipt_id: str) -> list[str]:
    return [str(e["detail"]) for e in events(client, receipt_id) if e["kind"] == "failover"]


# -- failover of sales ------------------------------------------------------------------------------------------


def test_paper_out_on_the_primary_moves_sales_to_the_backup_and_back(
    client: TestClient, main: Path, backup: Path
) -> None:
    """Primary out of paper: sales print on the backup (answers say so, a failover event is recorded); paper
    loaded: sales return to the primary; each device's FD numbers stay continuous and match the answers."""
    first = sell(client, "k1")
    assert first["device"] == "main"
    set_fault(main, "paper_out")
    moved = [sell(client, "k2"), sell(client, "k3")]
    assert [answer["device"] for answer in moved] == ["backup", "backup"]
    (detail,) = failovers(client, moved[0]["receipt_id"])
    assert detail.startswith("main -> backup: paper_out: "), detail
    assert client.get(f"/v1/kkt/receipt/{moved[0]['receipt_id']}").json()["device"] == "backup"
    set_fault(main, "paper_out", False)
    back = sell(client, "k4")
    assert back["device"] == "main"
    assert failovers(client, back["receipt_id"]) == []
    assert client.get(f"/v1/kkt/receipt/{back['receipt_id']}").json()["device"] == "main"

    assert receipts_by_key(main) == {"k1": fd(first), "k4": fd(back)}
    assert receipts_by_key(backup) == {"k2": fd(moved[0]), "k3": fd(moved[1])}
    assert fd(back) == fd(first) + 1, "the primary's numbering went on where it stopped"
    assert fd(moved[1]) == fd(moved[0]) + 1
    assert_continuous(main)
    assert_continuous(backup)
    assert moved[0]["fiscal_doc"]["fn_number"] == fn_number(backup)
    assert first["fiscal_doc"]["fn_number"] == fn_number(main)


def test_with_every_device_out_the_sale_is_503_no_device_and_nothing_is_printed(
    client: TestClient, main: Path, backup: Path
) -> None:
    """Primary out of paper and backup offline: 503 ``no_device`` naming both reasons, nothing printed or stored
    as printed; once a device is back, the same key prints once."""
    before = {name: journal(directory) for name, directory in (("main", main), ("backup", backup))}
    pending_before = client.get("/v1/kkt/buffer/status").json()["pending"]
    set_fault(main, "paper_out")
    set_fault(backup, "offline")
    response = post(client, "k1")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "no_device"
    assert body["detail"].startswith("no device could print: main: "), body["detail"]
    assert "(paper_out)" in body["detail"] and "backup: " in body["detail"] and "(offline)" in body["detail"]
    assert {name: refusal["code"] for name, refusal in body["devices"].items()} == {
        "main": "paper_out",
        "backup": "offline",
    }
    assert all(refusal["reason"] for refusal in body["devices"].values())
    assert journal(main) == before["main"] and journal(backup) == before["backup"]
    assert stored_state(client, "k1") == "print_failed"
    status = client.get("/v1/kkt/buffer/status").json()
    assert (status["pending"], status["failed"]) == (pending_before, 1), "only the journals' reports are pending"

    set_fault(backup, "offline", False)
    retried = sell(client, "k1")
    assert retried["device"] == "backup"
    assert receipts_by_key(backup) == {"k1": fd(retried)}
    assert receipts_by_key(main) == {}


def test_a_refusing_primary_is_skipped_for_the_recheck_time_then_tried_first_again(tmp_path: Path) -> None:
    """With KKT_FAILOVER_RECHECK_S=30 the primary that refused is skipped even once it could print again, until
    30 s have passed on the adapter's clock; then sales go to it first again."""
    clock = FakeClock()
    data_dir = tmp_path / "data"
    main, backup = state_dir(data_dir, "main"), state_dir(data_dir, "backup")
    for directory in (main, backup):
        ready(directory)
    settings = load_settings(two_devices_env(data_dir, KKT_FAILOVER_RECHECK_S="30"))
    with TestClient(create_app(settings, clock=clock)) as client:
        set_fault(main, "paper_out")
        assert sell(client, "k1")["device"] == "backup"
        set_fault(main, "paper_out", False)
        assert sell(client, "k2")["device"] == "backup", "still skipped within the recheck time"
        assert device_view(client, "main")["skipped_until"] is not None
        assert sell(client, "k3", device="main")["device"] == "main", "naming the device still prints there"
        clock.advance(31)
        assert sell(client, "k4")["device"] == "main"
    assert set(receipts_by_key(main)) == {"k3", "k4"}
    assert set(receipts_by_key(backup)) == {"k1", "k2"}


# -- naming a device --------------------------------------------------------------------------------------------


def test_a_sale_naming_a_device_prints_there(client: TestClient, main: Path, backup: Path) -> None:
    """``"device": "backup"`` prints on the backup although the primary can print; a correction too."""
    sale = sell(client, "k1", device="backup")
    assert sale["device"] == "backup"
    correction = post(client, "c1", CORRECTION, device="backup", path="correction")
    assert correction.status_code == 200, correction.text
    assert correction.json()["device"] == "backup"
    on_backup = {d.idempotency_key: d for d in journal(backup)}
    assert on_backup["k1"].fd_number == fd(sale)
    assert on_backup["c1"].doc_type == DOC_CORRECTION
    assert on_backup["c1"].fd_number == correction.json()["fiscal_doc"]["fiscal_doc_number"]
    assert receipts_by_key(main) == {}
    assert [d.idempotency_key for d in journal(main) if d.doc_type == DOC_CORRECTION] == []


def test_a_named_devices_refusal_is_the_answer_and_not_failed_over(
    client: TestClient, main: Path, backup: Path
) -> None:
    """The named backup out of paper: its refusal is the answer (503 paper_out), the primary prints nothing and no
    failover is recorded; the refused key may then print on another device."""
    before = journal(main)
    set_fault(backup, "paper_out")
    refused = post(client, "k1", device="backup")
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "paper_out"
    assert journal(main) == before
    assert failovers(client, receipt_id_of(client, "k1")) == []
    assert stored_state(client, "k1") == "print_failed"
    elsewhere = sell(client, "k1", device="main")
    assert elsewhere["device"] == "main"
    assert receipts_by_key(main) == {"k1": fd(elsewhere)}
    assert receipts_by_key(backup) == {}


def test_an_unknown_device_name_is_422_on_device_and_changes_nothing(
    client: TestClient, main: Path, backup: Path
) -> None:
    """A sale naming a device the adapter does not have: 422 at ``device`` listing the names; nothing stored."""
    response = post(client, "k1", device="nope")
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "device"]
    assert "main" in problem["msg"] and "backup" in problem["msg"]
    assert stored_state(client, "k1") is None
    assert receipts_by_key(main) == receipts_by_key(backup) == {}
    correction = post(client, "c1", CORRECTION, device="nope", path="correction")
    assert correction.status_code == 422
    assert correction.json()["detail"][0]["loc"] == ["body", "device"]


def test_a_resend_naming_the_other_device_replays_the_first_answer(
    client: TestClient, main: Path, backup: Path
) -> None:
    """A printed key resent naming the other device (or none) answers the stored bytes: same device, same FD."""
    first = post(client, "k1", device="backup")
    assert first.status_code == 200, first.text
    for device in ("main", None):
        again = post(client, "k1", device=device)
        assert again.status_code == 200
        assert again.content == first.content
    assert receipts_by_key(backup) == {"k1": fd(first.json())}
    assert receipts_by_key(main) == {}


# -- content rejections ------------------------------------------------------------------------------------------


def test_a_receipt_the_primary_refuses_for_its_content_is_not_failed_over(
    client: TestClient, main: Path, backup: Path
) -> None:
    """A sale under USN, which the primary (OSN only) refuses as invalid: 422 invalid_task, not moved to the
    backup that would have printed it, no failover event."""
    before = journal(backup)
    response = post(client, "usn", USN_SALE)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_task"
    assert journal(backup) == before, "not printed on the backup"
    assert receipts_by_key(main) == {}
    assert failovers(client, receipt_id_of(client, "usn")) == []
    assert sell(client, "usn-on-backup", USN_SALE, device="backup")["device"] == "backup", "the backup would print it"


# -- refunds -----------------------------------------------------------------------------------------------------


def test_a_refund_goes_to_the_device_that_printed_its_sale(client: TestClient, main: Path, backup: Path) -> None:
    """A sale printed on the backup (primary out of paper): its refund prints on the backup although the primary
    is back; with the backup out, the next refund of it fails over to the primary (policy ``failover``)."""
    set_fault(main, "paper_out")
    sale = sell(client, "sale", SALE_OF_THREE)
    assert sale["device"] == "backup"
    set_fault(main, "paper_out", False)
    assert sell(client, "other")["device"] == "main", "sales that name nothing went back to the primary"
    refund = sell(client, "refund-1", refund_of(sale["receipt_id"]))
    assert refund["device"] == "backup"
    set_fault(backup, "paper_out")
    moved = sell(client, "refund-2", refund_of(sale["receipt_id"]))
    assert moved["device"] == "main"
    (detail,) = failovers(client, moved["receipt_id"])
    assert detail.startswith("backup -> main: paper_out: "), detail
    assert set(receipts_by_key(backup)) == {"sale", "refund-1"}
    assert set(receipts_by_key(main)) == {"other", "refund-2"}


def test_with_original_only_a_refund_is_503_while_its_device_is_out(data_dir: Path, main: Path, backup: Path) -> None:
    """KKT_REFUND_DEVICE_POLICY=original_only: the sale's device out of paper → 503 and nothing printed on the
    primary; once it has paper, the same key prints there."""
    with start(data_dir, KKT_REFUND_DEVICE_POLICY="original_only") as client:
        sale = sell(client, "sale", SALE_OF_THREE, device="backup")
        set_fault(backup, "paper_out")
        before = journal(main)
        refused = post(client, "refund", refund_of(sale["receipt_id"]))
        assert refused.status_code == 503, refused.text
        assert journal(main) == before
        assert stored_state(client, "refund") == "print_failed"
        set_fault(backup, "paper_out", False)
        refund = sell(client, "refund", refund_of(sale["receipt_id"]))
        assert refund["device"] == "backup"
    assert set(receipts_by_key(backup)) == {"sale", "refund"}
    assert receipts_by_key(main) == {}


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
