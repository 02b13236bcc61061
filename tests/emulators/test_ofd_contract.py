"""The mock OFD's HTTP contract: acknowledgements, dedupe of resends, statistics, health and reset."""

from __future__ import annotations

from datetime import datetime

import httpx
from emulator_helpers import FN_NUMBER, make_document, receipt_body

from kkt_clock import ManualClock
from kkt_emulators.ofd import MockOFDServer


def post(client: httpx.Client, ofd: MockOFDServer, body: object, key: str | None = None) -> httpx.Response:
    """Post one receipt to the mock OFD."""
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"{ofd.url}/ofd/v1/receipt", json=body, headers=headers)


def test_any_json_object_is_accepted_with_a_numbered_ack(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """By default any JSON object is accepted: 200 with status, a sequential ofd_id, ISO timestamp and server time."""
    first = post(client, mock_ofd_server, {"anything": 1}).json()
    second = post(client, mock_ofd_server, {"receipt_id": "x"}).json()
    assert first["status"] == "accepted"
    assert (first["ofd_id"], second["ofd_id"]) == ("OFD-000001", "OFD-000002")
    assert first["timestamp"].endswith("Z")
    assert datetime.fromisoformat(first["timestamp"]).timestamp() * 1000 == first["server_time"]
    assert "duplicate" not in first
    assert mock_ofd_server.get_received_receipts() == [{"anything": 1}, {"receipt_id": "x"}]
    assert mock_ofd_server.get_call_count() == 2


def test_timestamps_come_from_the_injected_clock(client: httpx.Client) -> None:
    """The acknowledgement's time is the server's clock, so a test can pin it."""
    clock = ManualClock(start_wall=1_764_504_000.0)
    with MockOFDServer(port=0, clock=clock) as ofd:
        answer = post(client, ofd, {}).json()
    assert answer["server_time"] == 1_764_504_000_000
    assert answer["timestamp"] == "2025-11-30T12:00:00.000Z"


def test_non_object_bodies_are_refused(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """A body that is not a JSON object gets 400 with an error and code, and is not stored."""
    array = post(client, mock_ofd_server, [1, 2])
    garbage = client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", content=b"{not json")
    assert array.status_code == garbage.status_code == 400
    assert garbage.json()["code"] == "INVALID_JSON"
    assert mock_ofd_server.get_received_receipts() == []
    assert mock_ofd_server.get_stats()["rejected"] == 2


def test_resend_with_same_idempotency_key_gets_the_first_ack(
    mock_ofd_server: MockOFDServer, client: httpx.Client
) -> None:
    """Same Idempotency-Key → the first ofd_id again, marked duplicate, counted once as a document."""
    first = post(client, mock_ofd_server, {"n": 1}, key="k-1").json()
    again = post(client, mock_ofd_server, {"n": 1}, key="k-1").json()
    assert again == {**first, "duplicate": True}
    stats = mock_ofd_server.get_stats()
    assert (stats["calls"], stats["unique_documents"], stats["duplicates"]) == (2, 1, 1)
    assert len(mock_ofd_server.get_received_receipts()) == 1


def test_resend_with_same_fn_and_fd_gets_the_first_ack(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """Same FN (1041) + FD (1040) under a different key (or none) is the same document."""
    document = make_document(5)
    first = post(client, mock_ofd_server, receipt_body(document), key="a").json()
    again = post(client, mock_ofd_server, receipt_body(document)).json()
    assert again["ofd_id"] == first["ofd_id"]
    assert again["duplicate"] is True
    assert mock_ofd_server.get_stats()["duplicates"] == 1


def test_a_different_document_under_a_known_key_counts_as_a_conflict(
    mock_ofd_server: MockOFDServer, client: httpx.Client
) -> None:
    """A resend whose content differs from the first copy still gets the first ack, and is counted as a conflict."""
    post(client, mock_ofd_server, receipt_body(make_document(1)), key="k")
    answer = post(client, mock_ofd_server, receipt_body(make_document(1, **{"1020": 1, "1031": 1})), key="k").json()
    assert answer["duplicate"] is True
    assert mock_ofd_server.get_stats()["conflicts"] == 1


def test_stats_report_out_of_order_arrivals_and_gaps_per_fn(
    mock_ofd_server: MockOFDServer, client: httpx.Client
) -> None:
    """Per FN: FD numbers arriving below one already seen are out of order; missing ranges are gaps."""
    for fd in (1, 2, 5, 4, 9):
        post(client, mock_ofd_server, receipt_body(make_document(fd)))
    post(client, mock_ofd_server, receipt_body(make_document(1, fn="9999078900000001")))
    stats = client.get(f"{mock_ofd_server.url}/ofd/v1/_test/stats").json()
    assert stats["fn"][FN_NUMBER] == {
        "documents": 5,
        "by_type": {"3": 5},
        "first_fd": 1,
        "last_fd": 9,
        "out_of_order": 1,
        "gaps": [[3, 3], [6, 8]],
        "missing": 4,
    }
    assert stats["fn"]["9999078900000001"]["documents"] == 1
    assert stats == mock_ofd_server.get_stats()


def test_health_reports_faults_and_counts(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """GET /ofd/v1/health gives the field's documented fields."""
    post(client, mock_ofd_server, {})
    mock_ofd_server.set_failure_count(2)
    health = client.get(f"{mock_ofd_server.url}/ofd/v1/health").json()
    assert health["status"] == "healthy"
    assert health["permanent_failure"] is False
    assert health["failure_count"] == 2
    assert health["call_count"] == 1
    assert health["receipts_received"] == 1


def test_reset_over_http_forgets_everything(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """POST /ofd/v1/_test/reset clears documents, counters, dedupe and faults."""
    post(client, mock_ofd_server, {}, key="k")
    mock_ofd_server.set_permanent_failure(True)
    assert client.post(f"{mock_ofd_server.url}/ofd/v1/_test/reset").json() == {"status": "ok"}
    assert mock_ofd_server.get_call_count() == 0
    answer = post(client, mock_ofd_server, {}, key="k").json()
    assert answer["ofd_id"] == "OFD-000001"
    assert "duplicate" not in answer


def test_reset_in_python_forgets_everything(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``reset()`` is the Python twin of the admin reset."""
    post(client, mock_ofd_server, {})
    mock_ofd_server.set_failure_count(5)
    mock_ofd_server.reset()
    assert post(client, mock_ofd_server, {}).status_code == 200
    assert mock_ofd_server.get_stats()["unique_documents"] == 1


def test_received_receipts_over_http_with_a_limit(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """GET /ofd/v1/_test/receipts lists accepted documents, the last ``limit`` of them when asked."""
    for n in range(3):
        post(client, mock_ofd_server, {"n": n})
    url = f"{mock_ofd_server.url}/ofd/v1/_test/receipts"
    assert client.get(url).json() == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert client.get(url, params={"limit": 1}).json() == [{"n": 2}]


def test_journal_is_bounded_but_counts_everything(client: httpx.Client) -> None:
    """With ``journal_size=2`` only the last two documents are kept, all of them counted."""
    with MockOFDServer(port=0, journal_size=2) as ofd:
        for n in range(5):
            post(client, ofd, {"n": n})
        assert ofd.get_received_receipts() == [{"n": 3}, {"n": 4}]
        assert ofd.get_stats()["journal"] == {"size": 2, "kept": 2, "total": 5}
