"""Every fault program of the mock OFD, seen from a real HTTP client, programmed in Python and over the admin API."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from emulator_helpers import make_document, receipt_body

from kkt_adapter.testing import wait_for
from kkt_clock import ManualClock
from kkt_emulators.ofd import MockOFDServer


def post(client: httpx.Client, ofd: MockOFDServer, body: object | None = None, key: str | None = None) -> int:
    """Post one receipt and return the status code."""
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"{ofd.url}/ofd/v1/receipt", json={} if body is None else body, headers=headers).status_code


def test_failure_count_fails_the_next_n_then_succeeds(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_failure_count(3)``: three 503 with an error body, then 200; failures are counted but not stored."""
    mock_ofd_server.set_failure_count(3)
    answers = [client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={"n": n}) for n in range(4)]
    assert [answer.status_code for answer in answers] == [503, 503, 503, 200]
    assert "error" in answers[0].json()
    assert mock_ofd_server.get_call_count() == 4
    assert mock_ofd_server.get_received_receipts() == [{"n": 3}]


def test_permanent_failure_until_disabled(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_permanent_failure(True)`` fails everything until ``set_permanent_failure(False)``."""
    mock_ofd_server.set_permanent_failure(True)
    assert [post(client, mock_ofd_server) for _ in range(3)] == [503, 503, 503]
    mock_ofd_server.set_permanent_failure(False)
    assert post(client, mock_ofd_server) == 200


def test_permanent_failure_overrides_failure_count(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """Permanent failure wins over a failure count, which is left untouched meanwhile."""
    mock_ofd_server.set_failure_count(1)
    mock_ofd_server.set_permanent_failure()
    assert post(client, mock_ofd_server) == 503
    mock_ofd_server.set_permanent_failure(False)
    assert [post(client, mock_ofd_server), post(client, mock_ofd_server)] == [503, 200]


def test_fail_every_fails_each_nth_request(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_fail_every(3)``: the 3rd, 6th, ... requests fail."""
    mock_ofd_server.set_fail_every(3)
    assert [post(client, mock_ofd_server) for _ in range(6)] == [200, 200, 503, 200, 200, 503]


def test_latency_delays_answers(client: httpx.Client) -> None:
    """``set_latency`` delays a request before it is processed; one sent after ``set_latency(0)`` overtakes it."""
    with MockOFDServer(port=0) as ofd:
        ofd.set_latency(60_000, jitter_ms=10)
        answers: list[int] = []
        delayed = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{ofd.url}/ofd/v1/receipt", json={"n": 1}, timeout=10).status_code
            )
        )
        delayed.start()
        wait_for(lambda: ofd.get_call_count() == 1)  # arrived, and waiting out its latency
        ofd.set_latency(0)
        assert client.post(f"{ofd.url}/ofd/v1/receipt", json={"n": 2}).status_code == 200
        assert ofd.get_received_receipts() == [{"n": 2}]
        assert delayed.is_alive()
    delayed.join(10)  # stopping the server cut the wait short: the delayed request was answered, not dropped
    assert answers == [200]
    assert ofd.get_received_receipts() == [{"n": 2}, {"n": 1}]


def test_latency_beyond_the_client_timeout_is_a_timeout(mock_ofd_server: MockOFDServer) -> None:
    """A latency longer than the client's timeout makes the client time out (outcome unknown)."""
    mock_ofd_server.set_latency(300)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={}, timeout=0.05)


def test_rate_limit_answers_429_with_retry_after(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_rate_limit(2)`` answers 429 with ``Retry-After: 2`` until disabled with ``None``."""
    mock_ofd_server.set_rate_limit(2)
    answer = client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2"
    assert answer.json()["retry_after"] == 2
    assert post(client, mock_ofd_server) == 429
    mock_ofd_server.set_rate_limit(None)
    assert post(client, mock_ofd_server) == 200


def test_rate_limit_for_a_count_of_requests(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_rate_limit(0.5, count=2)`` limits two requests (Retry-After rounded up to whole seconds)."""
    mock_ofd_server.set_rate_limit(0.5, count=2)
    first = client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={})
    assert first.headers["Retry-After"] == "1"
    assert [first.status_code, post(client, mock_ofd_server), post(client, mock_ofd_server)] == [429, 429, 200]


def test_connection_reset_drops_unprocessed(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_connection_reset(1)``: the client sees a reset connection, nothing is stored, the next one passes."""
    mock_ofd_server.set_connection_reset(1)
    with pytest.raises(httpx.TransportError):
        client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={"n": 1})
    assert post(client, mock_ofd_server, {"n": 2}) == 200
    assert mock_ofd_server.get_received_receipts() == [{"n": 2}]
    assert mock_ofd_server.get_call_count() == 2


def test_lose_reply_stores_then_drops_and_the_resend_is_a_duplicate(
    mock_ofd_server: MockOFDServer, client: httpx.Client
) -> None:
    """``set_lose_reply(1)``: the document is stored, the connection drops; the client's resend is a duplicate."""
    mock_ofd_server.set_lose_reply(1)
    body = receipt_body(make_document(7))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json=body, headers={"Idempotency-Key": "r-7"})
    assert len(mock_ofd_server.get_received_receipts()) == 1
    answer = client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json=body, headers={"Idempotency-Key": "r-7"})
    assert answer.json()["duplicate"] is True
    assert answer.json()["ofd_id"] == "OFD-000001"
    stats = mock_ofd_server.get_stats()
    assert (stats["unique_documents"], stats["duplicates"], stats["lost_replies"]) == (1, 1, 1)


def test_lose_reply_in_503_mode(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_lose_reply(1, mode="503")``: the document is stored but the client is told 503."""
    mock_ofd_server.set_lose_reply(1, mode="503")
    assert post(client, mock_ofd_server, {"n": 1}) == 503
    assert mock_ofd_server.get_received_receipts() == [{"n": 1}]


def test_down_for_follows_the_injected_clock(client: httpx.Client) -> None:
    """``set_down_for(60)`` on a manual clock: 503 until the clock passes 60 s, then back by itself."""
    clock = ManualClock()
    with MockOFDServer(port=0, clock=clock) as ofd:
        ofd.set_down_for(60)
        assert post(client, ofd) == 503
        clock.advance(59.9)
        assert post(client, ofd) == 503
        clock.advance(0.1)
        assert post(client, ofd) == 200
        assert ofd.get_faults()["down_for_s"] is None


def test_hold_makes_requests_wait_until_release(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``hold()`` parks requests (counted, not answered); health and admin still answer; ``release()`` lets them go."""
    mock_ofd_server.hold()
    answers: list[httpx.Response] = []
    url = f"{mock_ofd_server.url}/ofd/v1/receipt"
    workers = [threading.Thread(target=lambda: answers.append(httpx.post(url, json={}))) for _ in range(3)]
    for worker in workers:
        worker.start()
    wait_for(lambda: mock_ofd_server.get_held_count() == 3)
    assert client.get(f"{mock_ofd_server.url}/ofd/v1/health").status_code == 200
    assert client.get(f"{mock_ofd_server.url}/ofd/v1/_test/stats").json()["calls"] == 3
    assert answers == []
    mock_ofd_server.release()
    for worker in workers:
        worker.join(5)
    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_faults_never_block_health_or_admin(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """With every fault armed, health, stats, faults and reset still answer 200."""
    mock_ofd_server.set_permanent_failure()
    mock_ofd_server.set_latency(2000)
    mock_ofd_server.set_connection_reset(5)
    mock_ofd_server.hold()
    base = f"{mock_ofd_server.url}/ofd/v1"
    assert client.get(f"{base}/health").status_code == 200
    assert client.get(f"{base}/_test/stats").status_code == 200
    assert client.get(f"{base}/_test/faults").json()["held"] is True
    assert client.post(f"{base}/_test/reset").status_code == 200
    assert post(client, mock_ofd_server) == 200


def test_set_success_disarms_everything(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``set_success()`` clears every fault program at once."""
    mock_ofd_server.set_failure_count(5)
    mock_ofd_server.set_fail_every(1)
    mock_ofd_server.set_rate_limit(1)
    mock_ofd_server.set_lose_reply(3)
    mock_ofd_server.set_down_for(3600)
    mock_ofd_server.set_success()
    assert post(client, mock_ofd_server) == 200
    faults = mock_ofd_server.get_faults()
    assert faults["failure_count"] == faults["lose_reply_count"] == faults["fail_every"] == 0


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("failure-count", {"count": 2}, [503, 503, 200]),
        ("permanent-failure", {"enabled": True}, [503, 503, 503]),
        ("fail-every", {"n": 2}, [200, 503, 200]),
        ("rate-limit", {"retry_after_s": 1, "count": 1}, [429, 200, 200]),
        ("lose-reply", {"count": 1, "mode": "503"}, [503, 200, 200]),
        ("down-for", {"seconds": 3600}, [503, 503, 503]),
        ("latency", {"ms": 1}, [200, 200, 200]),
        ("success", {}, [200, 200, 200]),
    ],
)
def test_admin_api_programs_the_same_faults(
    mock_ofd_server: MockOFDServer, client: httpx.Client, path: str, body: dict[str, Any], expected: list[int]
) -> None:
    """Each ``POST /ofd/v1/_test/<fault>`` has the effect of its Python twin."""
    answer = client.post(f"{mock_ofd_server.url}/ofd/v1/_test/{path}", json=body)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert [post(client, mock_ofd_server) for _ in expected] == expected


def test_admin_api_resets_connections_and_holds(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """``connection-reset``, ``hold`` and ``release`` work over the admin API too."""
    base = f"{mock_ofd_server.url}/ofd/v1/_test"
    client.post(f"{base}/connection-reset", json={"count": 1})
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={})
    client.post(f"{base}/hold")
    worker = threading.Thread(target=lambda: httpx.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={}))
    worker.start()
    wait_for(lambda: client.get(f"{base}/faults").json()["held_requests"] == 1)
    client.post(f"{base}/release")
    worker.join(5)
    assert mock_ofd_server.get_stats()["unique_documents"] == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("failure-count", {"count": "three"}),
        ("failure-count", {"count": -1}),
        ("fail-every", {}),
        ("latency", {"ms": -5}),
        ("lose-reply", {"count": 1, "mode": "vanish"}),
        ("down-for", {"seconds": "soon"}),
    ],
)
def test_admin_api_refuses_bad_values(
    mock_ofd_server: MockOFDServer, client: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    """A malformed fault program is refused with 400 and an error message, and changes nothing."""
    answer = client.post(f"{mock_ofd_server.url}/ofd/v1/_test/{path}", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]
    assert post(client, mock_ofd_server) == 200


def test_client_gone_before_its_body_is_counted_not_stored(caplog: pytest.LogCaptureFixture) -> None:
    """A client that disconnects before sending its whole body (a killed adapter) is a call, not a document, and
    leaves no error in the log."""
    import logging
    import socket

    with caplog.at_level(logging.ERROR), MockOFDServer(port=0) as ofd:
        with socket.create_connection((ofd.host, ofd.port)) as sock:
            sock.sendall(b"POST /ofd/v1/receipt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        wait_for(lambda: ofd.get_call_count() == 1)
        ofd.set_success()  # a round trip through the server after the disconnect was handled
        assert ofd.get_stats()["unique_documents"] == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
