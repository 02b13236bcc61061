"""Several KKTs behind one adapter (in-process app, two emulated devices): failover of sales on a device's refusal
and back, a sale or correction naming its device, content rejections kept where they are, refunds following their
sale. Faults are switched on each device's own emulated state, as an operator's CLI would; what was printed where is
read from each device's own journal.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from integration.devices_support import (
    CORRECTION,
    SALE_OF_THREE,
    USN_SALE,
    assert_continuous,
    device_view,
    failovers,
    fd,
    post,
    ready,
    receipt_id_of,
    receipts_by_key,
    refund_of,
    sell,
    set_fault,
    start,
    state_dir,
    stored_state,
    two_devices_env,
)
from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import FakeClock
from kkt_emulators.device import DOC_CORRECTION
from ready_device import fn_number, journal

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
