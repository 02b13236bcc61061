"""Phase 1 and the happy path against real processes: delivery, idempotency, a full buffer, bad input, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.support import (
    FAST,
    Spawn,
    all_synced,
    buffer_status,
    post_receipt,
    print_receipt,
    printed_receipts,
    receipt,
    run_threads,
    sale,
    wait_for,
)
from kkt_adapter.testing import bodies
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.fiscal import QR_PATTERN
from kkt_emulators.ofd import MockOFDServer
from ready_device import ready_device


def test_happy_path_receipt_is_printed_and_synced_once(spawn: Spawn, mock_ofd_server: MockOFDServer) -> None:
    """Scenario 1 — Happy path: a receipt is printed, then synced; the OFD got exactly one document whose fields
    match the fiscal data and the QR string."""
    adapter = spawn(FAST | {"KKT_OFD_API_URL": mock_ofd_server.url})
    body = bodies.sale()
    response = post_receipt(adapter.url, body, "happy-1")
    assert response.status_code == 200, response.text
    printed = response.json()
    assert printed["status"] == "printed"
    fiscal = printed["fiscal_doc"]
    wait_for(lambda: receipt(adapter.url, printed["receipt_id"])["state"] == "synced", what="synced")

    (received,) = mock_ofd_server.get_received_receipts()
    stats = mock_ofd_server.get_stats()
    assert (stats["calls"], stats["unique_documents"], stats["duplicates"]) == (1, 1, 0)
    assert received["receipt_id"] == printed["receipt_id"]
    assert received["pos_id"] == "POS-001"
    document = received["fiscal_document"]
    assert document["1040"] == fiscal["fiscal_doc_number"]
    assert document["1041"] == fiscal["fn_number"]
    assert document["1037"] == fiscal["kkt_number"]
    assert str(document["1077"]) == fiscal["fiscal_sign"]
    assert document["1038"] == fiscal["shift_number"]
    assert document["1020"] == 10000, "the total in kopecks"
    qr = QR_PATTERN.fullmatch(fiscal["qr_code_data"])
    assert qr is not None, fiscal["qr_code_data"]
    t, s, fn, i, fp, n = qr.groups()
    assert t == document["1012"].replace("-", "").replace(":", "")[:13]
    assert (s, fn, int(i), fp, int(n)) == ("100.00", document["1041"], document["1040"], str(document["1077"]), 1)

    stored = receipt(adapter.url, printed["receipt_id"])
    assert stored["fiscal_doc"]["qr_code_data"] == fiscal["qr_code_data"]
    assert stored["sync"]["attempts"] == 1
    assert stored["sync"]["ofd_id"] == "OFD-000001"


def test_same_key_twice_prints_once_and_sends_once(
    spawn: Spawn, mock_ofd_server: MockOFDServer, tmp_path: Path
) -> None:
    """Scenario 6 — Idempotency: the same key twice gives identical responses, one print, one document at the OFD."""
    adapter = spawn(FAST | {"KKT_OFD_API_URL": mock_ofd_server.url})
    first = post_receipt(adapter.url, sale(7), "same-key")
    second = post_receipt(adapter.url, sale(7), "same-key")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content, "byte-identical answers"
    receipt_id = first.json()["receipt_id"]
    wait_for(lambda: receipt(adapter.url, receipt_id)["state"] == "synced", what="synced")
    third = post_receipt(adapter.url, sale(7), "same-key")
    assert third.content == first.content, "still the same answer after the sync"

    printed = printed_receipts(tmp_path / "data")
    assert [d.idempotency_key for d in printed] == ["same-key"], "one print"
    stats = mock_ofd_server.get_stats()
    assert (stats["unique_documents"], stats["duplicates"]) == (1, 0)
    assert buffer_status(adapter.url)["synced"] == 1
    different = post_receipt(adapter.url, sale(8), "same-key")
    assert different.status_code == 422, "the same key with another body is refused, not printed"
    assert len(printed_receipts(tmp_path / "data")) == 1


def test_full_buffer_refuses_the_eleventh_and_prints_nothing(
    spawn: Spawn, mock_ofd_server: MockOFDServer, tmp_path: Path
) -> None:
    """Scenario 7 — Buffer full: capacity 10 with the OFD down → the 11th sale gets 503 "Buffer full" with
    Retry-After, and nothing is printed for it."""
    mock_ofd_server.set_permanent_failure(True)
    adapter = spawn(FAST | {"KKT_OFD_API_URL": mock_ofd_server.url, "KKT_BUFFER_MAX_SIZE": "10"})
    for i in range(10):
        print_receipt(adapter.url, i)
    before = printed_receipts(tmp_path / "data")
    refused = post_receipt(adapter.url, sale(10), "sale-10")
    assert refused.status_code == 503
    assert "Buffer full" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert printed_receipts(tmp_path / "data") == before, "nothing printed"
    assert len(before) == 10
    status = buffer_status(adapter.url)
    assert (status["current_queued"], status["total_capacity"], status["percent_full"]) == (10, 10, 100.0)
    assert status["synced"] == 0


VALID: dict[str, Any] = sale(1)


def _with(path: str, value: Any) -> dict[str, Any]:
    """A copy of the valid sale with one field replaced (``path`` like ``items.0.price``; ``...`` deletes it)."""
    body: Any = {**VALID, "items": [dict(item) for item in VALID["items"]]}
    body["payments"] = [dict(payment) for payment in VALID["payments"]]
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is ...:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    result: dict[str, Any] = body
    return result


# (case id, request body, the field the 422 must name)
BAD_REQUESTS: list[tuple[str, Any, str]] = [
    ("pos_id missing", _with("pos_id", ...), "pos_id"),
    ("pos_id empty", _with("pos_id", "  "), "pos_id"),
    ("pos_id too long", _with("pos_id", "P" * 65), "pos_id"),
    ("type unknown", _with("type", "exchange"), "type"),
    ("items missing", _with("items", ...), "items"),
    ("items empty", _with("items", []), "items"),
    ("item name empty", _with("items.0.name", ""), "name"),
    ("price zero", _with("items.0.price", 0), "price"),
    ("price negative", _with("items.0.price", -5), "price"),
    ("price not a number", _with("items.0.price", "abc"), "price"),
    ("price with three decimals", _with("items.0.price", "1.001"), "price"),
    ("quantity zero", _with("items.0.quantity", 0), "quantity"),
    ("vat rate abolished (18 %)", _with("items.0.vat_rate", 18), "vat_rate"),
    ("item extra field", _with("items.0.discount", 5), "discount"),
    ("payments empty", _with("payments", []), "payments"),
    ("payment type unknown", _with("payments.0.type", "bitcoin"), "type"),
    ("payment amount negative", _with("payments.0.amount", -1), "amount"),
    ("payments do not cover the total", _with("payments.0.amount", "0.01"), "payments"),
    ("body not an object", [1, 2, 3], "body"),
]


@pytest.fixture(scope="module")
def shared_adapter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdapterProcess]:
    """One adapter (with no OFD) for the whole table of bad requests."""
    data_dir = tmp_path_factory.mktemp("bad") / "data"
    ready_device(data_dir / "kkt")  # the device's own earlier documents are acknowledged: the buffer starts empty
    process = AdapterProcess(data_dir, env={"KKT_SYNC_ENABLED": "false"})
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.parametrize(("body", "field"), [(b, f) for _, b, f in BAD_REQUESTS], ids=[c for c, _, _ in BAD_REQUESTS])
def test_invalid_request_is_refused_naming_the_field(shared_adapter: AdapterProcess, body: Any, field: str) -> None:
    """Scenario 8 — Invalid data: each bad request of the table gets 422 naming the field; nothing is stored or
    printed."""
    response = httpx.post(
        shared_adapter.url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": "bad"}, timeout=10
    )
    assert response.status_code == 422, response.text
    locations = [[str(part) for part in problem["loc"]] for problem in response.json()["detail"]]
    assert any(field in location for location in locations), locations
    status = buffer_status(shared_adapter.url)
    assert status["current_queued"] + status["synced"] + status["failed"] == 0, "nothing stored"
    assert printed_receipts(shared_adapter.data_dir) == [], "nothing printed"


def test_missing_idempotency_key_is_refused(shared_adapter: AdapterProcess) -> None:
    """Scenario 8 — Invalid data: a sale without an Idempotency-Key header gets 422 naming the header; nothing is
    printed."""
    response = httpx.post(shared_adapter.url + "/v1/kkt/receipt", json=VALID, timeout=10)
    assert response.status_code == 422
    assert ["header", "Idempotency-Key"] in [problem["loc"] for problem in response.json()["detail"]]
    assert printed_receipts(shared_adapter.data_dir) == []


def test_ten_threads_get_unique_gap_free_fd_numbers_all_delivered(
    spawn: Spawn, mock_ofd_server: MockOFDServer, tmp_path: Path
) -> None:
    """Scenario 9 — Concurrency: 10 threads × 10 receipts → 100 unique, gap-free FD numbers, the same in the
    device's journal, and all 100 delivered to the OFD without a gap or duplicate."""
    adapter = spawn(FAST | {"KKT_OFD_API_URL": mock_ofd_server.url, "KKT_EMULATOR_PRINT_DELAY_MS": "1"})
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def till(n: int) -> None:
        with httpx.Client(timeout=10) as http:
            for i in range(10):
                response = post_receipt(adapter.url, sale(n * 10 + i), f"t{n}-{i}", http=http)
                assert response.status_code == 200, response.text
                with lock:
                    answers.append(response.json())

    run_threads(till, 10)
    numbers = sorted(a["fiscal_doc"]["fiscal_doc_number"] for a in answers)
    assert len(numbers) == 100
    assert numbers == list(range(numbers[0], numbers[0] + 100)), "unique and gap-free"
    journal = {d.idempotency_key: d.fd_number for d in printed_receipts(tmp_path / "data")}
    assert sorted(journal.values()) == numbers
    ids = [a["receipt_id"] for a in answers]
    assert len(set(ids)) == 100
    wait_for(lambda: buffer_status(adapter.url)["synced"] == 100, timeout=30, what="100 synced")
    assert all_synced(adapter.url, ids[:5])
    stats = mock_ofd_server.get_stats()
    (fn,) = stats["fn"].values()
    assert (stats["unique_documents"], stats["duplicates"], fn["documents"], fn["gaps"]) == (100, 0, 100, [])
