"""A store's fiscal day at the mock OFD: every document the FN signs arrives (registration, shift opening, receipts,
a correction, the Z report, the next opening), identified per FN by its FD number whatever its type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulator_helpers import (
    FN_NUMBER,
    FN_SECRET,
    document_body,
    make_correction,
    make_document,
    make_registration,
    make_shift_closing,
    make_shift_opening,
    receipt_body,
)

from kkt_emulators.ofd import MockOFDServer

OTHER_FN = "9999078900005678"
OTHER_SECRET = b"another-fn-secret"


def fiscal_day() -> list[tuple[str, dict[str, Any]]]:
    """(key, body) of one FN's first day in FD order: registration (FD 1), shift 1 opening (2), three receipts (3-5),
    a correction (6), the Z report (7), shift 2 opening (8). Shift documents go with a null or empty ``pos_id``."""
    documents = [
        document_body(make_registration(1), "reg-1"),
        document_body(make_shift_opening(2, shift=1), "open-1"),
        receipt_body(make_document(3, **{"1042": 1}), "sale-1"),
        receipt_body(make_document(4, **{"1042": 2, "1054": 2}), "refund-1"),
        receipt_body(make_document(5, **{"1042": 3, "1021": "Иванова А. П."}), "sale-2"),
        receipt_body(make_correction(6, **{"1042": 4}), "corr-1"),
        {**document_body(make_shift_closing(7, shift=1, documents=6, receipts=4), "z-1"), "pos_id": ""},
        document_body(make_shift_opening(8, shift=2, **{"1012": "2025-12-01T09:00:00"}), "open-2"),
    ]
    return [(f"key-{body['receipt_id']}", body) for body in documents]


@pytest.fixture
def ofd() -> Iterator[MockOFDServer]:
    """A validating mock OFD that knows both test FNs' secrets."""
    secrets = {FN_NUMBER: FN_SECRET, OTHER_FN: OTHER_SECRET}
    with MockOFDServer(port=0, validate=True, fn_secrets=secrets) as server:
        yield server


def post(client: httpx.Client, ofd: MockOFDServer, body: dict[str, Any], key: str | None) -> httpx.Response:
    """Post one document as the adapter does."""
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"{ofd.url}/ofd/v1/receipt", json=body, headers=headers)


def test_a_full_day_has_no_gaps_and_counts_each_type(ofd: MockOFDServer, client: httpx.Client) -> None:
    """All eight documents are accepted and checked; per FN: 8 documents, FD 1..8, no gap, counts by type."""
    day = fiscal_day()
    answers = [post(client, ofd, body, key) for key, body in day]
    assert [answer.status_code for answer in answers] == [200] * 8, [answer.text for answer in answers]
    assert [answer.json()["ofd_id"] for answer in answers] == [f"OFD-{n:06d}" for n in range(1, 9)]
    stats = ofd.get_stats()
    assert stats["fn"][FN_NUMBER] == {
        "documents": 8,
        "by_type": {"1": 1, "2": 2, "3": 3, "5": 1, "31": 1},
        "first_fd": 1,
        "last_fd": 8,
        "out_of_order": 0,
        "gaps": [],
        "missing": 0,
    }
    assert (stats["unique_documents"], stats["duplicates"], stats["conflicts"], stats["rejected"]) == (8, 0, 0, 0)
    assert ofd.get_received_receipts() == [body for _, body in day], "the bodies are stored as posted"


def test_a_missing_z_report_is_a_gap(ofd: MockOFDServer, client: httpx.Client) -> None:
    """Since every type is delivered, a document that never arrived (here the Z report, FD 7) is a real gap."""
    for key, body in fiscal_day():
        if body["fiscal_document"]["1000"] != 5:
            assert post(client, ofd, body, key).status_code == 200
    fn = ofd.get_stats()["fn"][FN_NUMBER]
    assert (fn["documents"], fn["gaps"], fn["missing"]) == (7, [[7, 7]], 1)
    assert "5" not in fn["by_type"]


def test_a_late_shift_document_fills_its_gap(ofd: MockOFDServer, client: httpx.Client) -> None:
    """A shift opening delivered after the receipts that follow it is out of order and closes the gap."""
    day = fiscal_day()
    for key, body in day[2:5] + day[1:2]:
        assert post(client, ofd, body, key).status_code == 200
    fn = ofd.get_stats()["fn"][FN_NUMBER]
    assert (fn["first_fd"], fn["last_fd"], fn["out_of_order"], fn["gaps"]) == (2, 5, 1, [])
    assert fn["by_type"] == {"2": 1, "3": 3}


@pytest.mark.parametrize("position", [0, 1, 5, 6])
def test_resending_any_document_is_a_duplicate(ofd: MockOFDServer, client: httpx.Client, position: int) -> None:
    """A resend of a document of any type, same key or none, gets its first ofd_id again; counts stay the same."""
    day = fiscal_day()
    first = {key: post(client, ofd, body, key).json() for key, body in day}
    key, body = day[position]
    for resend_key in (key, None, "another-key"):
        again = post(client, ofd, body, resend_key).json()
        assert again == {**first[key], "duplicate": True}
    stats = ofd.get_stats()
    assert (stats["unique_documents"], stats["duplicates"], stats["conflicts"]) == (8, 3, 0)
    assert stats["fn"][FN_NUMBER]["documents"] == 8
    assert sum(stats["fn"][FN_NUMBER]["by_type"].values()) == 8


def test_another_z_report_under_a_known_fd_number_is_a_conflict(ofd: MockOFDServer, client: httpx.Client) -> None:
    """Same FN and FD number, different content (a second Z report numbered 7): the first ack again, a conflict."""
    z_key, z_body = fiscal_day()[6]
    first = post(client, ofd, z_body, z_key).json()
    other = document_body(make_shift_closing(7, shift=1, documents=6, receipts=3), "z-1")
    answer = post(client, ofd, other, "key-z-1-again").json()
    assert answer == {**first, "duplicate": True}
    stats = ofd.get_stats()
    assert (stats["unique_documents"], stats["duplicates"], stats["conflicts"]) == (1, 1, 1)
    assert stats["fn"][FN_NUMBER]["by_type"] == {"5": 1}


def test_the_fd_number_not_the_key_identifies_a_fiscal_document(ofd: MockOFDServer, client: httpx.Client) -> None:
    """A key reused for another FN's document (the adapter's id of "shift 1's Z report" after an FN replacement) does
    not hide it: it is a new document, counted as a key reuse; each FN has its own sequence."""
    old = document_body(make_shift_closing(7, shift=1, documents=6, receipts=4), "z-1")
    new = document_body(make_shift_closing(3, shift=1, fn=OTHER_FN, secret=OTHER_SECRET), "z-1")
    first = post(client, ofd, old, "z-1").json()
    second = post(client, ofd, new, "z-1").json()
    assert "duplicate" not in second
    assert second["ofd_id"] != first["ofd_id"]
    again = post(client, ofd, new, "z-1").json()
    assert again == {**second, "duplicate": True}, "the key's resend is still answered by FN and FD"
    stats = ofd.get_stats()
    assert (stats["unique_documents"], stats["duplicates"], stats["conflicts"], stats["key_reuses"]) == (2, 1, 0, 1)
    assert stats["fn"][OTHER_FN]["by_type"] == {"5": 1}
    assert stats["fn"][FN_NUMBER]["by_type"] == {"5": 1}


def test_without_validation_unknown_types_are_counted_apart(client: httpx.Client) -> None:
    """Validation off: any FN/FD document is accepted; a missing or unknown 1000 is counted as "unknown"."""
    with MockOFDServer(port=0) as ofd:
        for fd, doc_type in ((1, None), (2, 99), (3, "3"), (4, 21), (5, True)):
            document: dict[str, Any] = {"1041": FN_NUMBER, "1040": fd}
            if doc_type is not None:
                document["1000"] = doc_type
            assert post(client, ofd, {"fiscal_document": document}, None).status_code == 200
        assert ofd.get_stats()["fn"][FN_NUMBER]["by_type"] == {"3": 1, "21": 1, "unknown": 3}
