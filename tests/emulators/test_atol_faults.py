"""The ATOL emulator's fault programs over real HTTP, armed from Python and over the admin API: inProgress after the
end, lost replies on POST and GET, blocked jobs resolved by the server from the FN counter (printed or not), paper
out, cover open, device not connected, server down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from atol_helpers import error, fn_number_now, new_uuid, post, result, results, run, sell, settled, shift, to_json

from kkt_adapter.testing import wait_for
from kkt_clock import ManualClock
from kkt_emulators import MockAtolServer

Arm = Callable[..., None]


@pytest.fixture
def atol() -> Iterator[tuple[httpx.Client, MockAtolServer]]:
    """A started emulator and a client."""
    with MockAtolServer(port=0) as server, httpx.Client(timeout=5.0) as http:
        yield http, server


@pytest.fixture(params=["python", "admin"])
def arm(request: pytest.FixtureRequest, atol: tuple[httpx.Client, MockAtolServer]) -> Arm:
    """Arms a fault by name with keyword arguments, through the Python API or ``POST /admin/faults``."""
    http, server = atol

    def python(name: str, **kwargs: Any) -> None:
        getattr(server.faults, name)(**kwargs)

    def admin(name: str, **kwargs: Any) -> None:
        answer = http.post(f"{server.url}/admin/faults", json={"fault": name, **kwargs})
        assert answer.status_code == 200, answer.text

    return python if request.param == "python" else admin


def queue_status(http: httpx.Client, url: str) -> dict[str, Any]:
    """The queue's status (200 expected)."""
    answer = http.get(f"{url}/api/v2/getRequestsQueueStatus")
    assert answer.status_code == 200
    return dict(answer.json())


def wait_blocked(http: httpx.Client, url: str) -> dict[str, Any]:
    """Wait until the queue reports a block; its status."""
    return wait_for(lambda: (status := queue_status(http, url))["isBlocked"] and status, what="the queue to block")


def test_in_progress_shows_a_finished_job_running_for_n_gets(
    atol: tuple[httpx.Client, MockAtolServer], arm: Arm
) -> None:
    """The next job, once finished, reads ``inProgress`` (no result) for 2 GETs, then ``ready`` with its result."""
    http, server = atol
    arm("in_progress", polls=2)
    job = post(http, server.url, [sell(), {"type": "getFnStatus"}])
    wait_for(lambda: queue_status(http, server.url)["number"] == 0, what="the job to finish")
    for _ in range(2):
        entries = results(http, server.url, job)
        assert [entry["status"] for entry in entries] == ["inProgress", "inProgress"]
        assert all("result" not in entry for entry in entries)
    first, _ = results(http, server.url, job)
    assert first["status"] == "ready" and first["result"]["fiscalParams"]["fiscalDocumentNumber"] == 3
    (other,) = run(http, server.url, {"type": "getShiftStatus"})  # the fault was for one job only
    assert other["status"] == "ready"


def test_a_lost_post_reply_leaves_the_job_made_and_a_resend_is_409(
    atol: tuple[httpx.Client, MockAtolServer], arm: Arm
) -> None:
    """The POST's connection closes without an answer, yet the job was queued and printed once; the same uuid again
    is 409 and reads the one document."""
    http, server = atol
    arm("lose_reply", on="post", times=1)
    job = new_uuid()
    body = to_json({"uuid": job, "request": [sell()]})
    with pytest.raises(httpx.TransportError):
        http.post(f"{server.url}/api/v2/requests", content=body)
    assert http.post(f"{server.url}/api/v2/requests", content=body).status_code == 409
    (entry,) = settled(http, server.url, job)
    assert entry["result"]["fiscalParams"]["fiscalDocumentNumber"] == 3
    assert fn_number_now(http, server.url) == 3


def test_a_lost_get_reply_then_the_next_get_answers(atol: tuple[httpx.Client, MockAtolServer], arm: Arm) -> None:
    """The GET's connection closes without an answer once; the next GET reads the job."""
    http, server = atol
    job = post(http, server.url, [sell()])
    settled(http, server.url, job)
    arm("lose_reply", on="get", times=1)
    with pytest.raises(httpx.TransportError):
        http.get(f"{server.url}/api/v2/requests/{job}")
    (entry,) = results(http, server.url, job)
    assert entry["status"] == "ready"


def test_a_block_with_the_document_printed_resolves_to_ready(
    atol: tuple[httpx.Client, MockAtolServer], arm: Arm
) -> None:
    """A sale blocked after its document was made reads ``blocked`` for 2 GETs, the queue stopped (later jobs wait,
    the status operations refused); then the server finds the FN counter grown and the job ``ready`` with that
    document; the queue resumes. Exactly one document."""
    http, server = atol
    before = fn_number_now(http, server.url)
    arm("block", printed=True, polls=2)
    job = post(http, server.url, [sell(), {"type": "getShiftStatus"}])
    later = post(http, server.url, [{"type": "getFnStatus"}])
    status = wait_blocked(http, server.url)
    assert status["blockedUUID"] == job and status["blockReason"]["code"] == 2
    assert http.post(f"{server.url}/api/v2/operations/queryFnStatus").status_code == 409
    for _ in range(2):
        assert results(http, server.url, later)[0]["status"] == "wait"
        blocked, rest = results(http, server.url, job)
        assert (blocked["status"], rest["status"]) == ("blocked", "wait") and "result" not in blocked
    printed, rest = settled(http, server.url, job)
    assert printed["status"] == "ready" and printed["result"]["fiscalParams"]["fiscalDocumentNumber"] == before + 2
    assert rest["status"] == "ready"
    (counter,) = settled(http, server.url, later)
    assert counter["result"]["fnStatus"]["fiscalDocumentNumber"] == before + 2  # shift opening + the sale, once
    assert queue_status(http, server.url)["isBlocked"] is False


def test_a_block_without_the_document_resolves_to_error(atol: tuple[httpx.Client, MockAtolServer], arm: Arm) -> None:
    """A sale blocked before its document was made reads ``blocked`` for 1 GET; then the FN counter has not moved and
    the job is ``error`` with the block's code (2), its rest ``interrupted``; nothing was printed."""
    http, server = atol
    before = fn_number_now(http, server.url)
    arm("block", printed=False, polls=1)
    job = post(http, server.url, [sell(), {"type": "getFnStatus"}])
    wait_blocked(http, server.url)
    assert results(http, server.url, job)[0]["status"] == "blocked"
    failed, rest = results(http, server.url, job)
    assert (failed["status"], failed["error"]["code"]) == ("error", 2)
    assert rest["status"] == "interrupted"
    assert fn_number_now(http, server.url) == before
    assert result(http, server.url, sell())["fiscalParams"]["fiscalDocumentNumber"] == before + 2


def test_a_block_without_polls_lasts_until_cleared(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """``block(polls=0)`` keeps the job blocked however often it is read; ``DELETE /admin/faults`` ends it and the
    server resolves it (printed: ready)."""
    http, server = atol
    server.faults.block(printed=True, polls=0)
    job = post(http, server.url, [sell()])
    wait_blocked(http, server.url)
    for _ in range(5):
        assert results(http, server.url, job)[0]["status"] == "blocked"
    assert http.delete(f"{server.url}/admin/faults").status_code == 200
    (entry,) = results(http, server.url, job)
    assert entry["status"] == "ready" and entry["result"]["fiscalParams"]["fiscalDocumentNumber"] == 3


def test_paper_out_refuses_printing_with_44(atol: tuple[httpx.Client, MockAtolServer], arm: Arm) -> None:
    """Without paper a sale and an X report fail with 44, nothing printed; the device status shows no paper; once
    cleared the sale prints."""
    http, server = atol
    arm("paper_out")
    assert error(http, server.url, sell())[0] == 44
    assert result(http, server.url, {"type": "getDeviceStatus"})["deviceStatus"]["paperPresent"] is False
    assert fn_number_now(http, server.url) == 1
    server.faults.clear()
    assert result(http, server.url, sell())["fiscalParams"]["fiscalDocumentNumber"] == 3


def test_cover_open_refuses_printing_with_45(atol: tuple[httpx.Client, MockAtolServer], arm: Arm) -> None:
    """With the cover open a sale and a shift opening fail with 45; the device status says so; status tasks work."""
    http, server = atol
    arm("cover_open")
    assert error(http, server.url, sell())[0] == 45
    assert error(http, server.url, shift())[0] == 45
    assert result(http, server.url, {"type": "getDeviceStatus"})["deviceStatus"]["coverOpened"] is True
    assert fn_number_now(http, server.url) == 1


def test_disconnect_refuses_new_jobs_and_fails_queued_ones(atol: tuple[httpx.Client, MockAtolServer], arm: Arm) -> None:
    """Not connected: a POST is 409 with code 2 and the operations are 409; a job queued before fails with code 2."""
    http, server = atol
    server.faults.block(printed=False, polls=1)
    blocked = post(http, server.url, [sell()])
    queued = post(http, server.url, [sell()])
    wait_blocked(http, server.url)
    arm("disconnect")
    refused = http.post(f"{server.url}/api/v2/requests", content=to_json({"uuid": new_uuid(), "request": [sell()]}))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == 2
    assert http.post(f"{server.url}/api/v2/operations/queryShiftStatus").status_code == 409
    results(http, server.url, blocked)  # the block's one poll: it ends
    (entry,) = settled(http, server.url, queued)
    assert (entry["status"], entry["error"]["code"]) == ("error", 2)
    assert server.kkt.status().last_fd_number == 1


def test_down_for_answers_503_until_the_clock_passes() -> None:
    """``down_for(30)`` answers 503 on every route (admin excepted) until 30 s pass on the injected clock."""
    clock = ManualClock()
    with MockAtolServer(port=0, clock=clock) as server, httpx.Client(timeout=5.0) as http:
        server.faults.down_for(30)
        assert http.get(f"{server.url}/api/v2/serverInfo").status_code == 503
        assert http.post(f"{server.url}/api/v2/requests", content=b"{}").status_code == 503
        assert http.get(f"{server.url}/admin/faults").json()["down_for_s"] == 30
        clock.advance(29)
        assert http.get(f"{server.url}/api/v2/getRequestsQueueStatus").status_code == 503
        clock.advance(2)
        assert http.get(f"{server.url}/api/v2/getRequestsQueueStatus").status_code == 200


def test_down_for_over_the_admin_api(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """``{"fault": "down_for", "seconds": 60}`` takes the server down; ``DELETE /admin/faults`` brings it back."""
    http, server = atol
    assert http.post(f"{server.url}/admin/faults", json={"fault": "down_for", "seconds": 60}).status_code == 200
    assert http.get(f"{server.url}/api/v2/getRequestsQueueStatus").status_code == 503
    assert http.delete(f"{server.url}/admin/faults").status_code == 200
    assert http.get(f"{server.url}/api/v2/getRequestsQueueStatus").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"fault": "explode"},
        {"fault": "block", "polls": -1},
        {"fault": "block", "printed": "yes"},
        {"fault": "lose_reply", "on": "delete"},
        {"fault": "down_for", "seconds": "soon"},
        ["block"],
    ],
)
def test_a_bad_admin_fault_is_400_and_arms_nothing(atol: tuple[httpx.Client, MockAtolServer], body: object) -> None:
    """An unknown fault or a wrong argument is 400 with the reason; the faults stay as they were."""
    http, server = atol
    before = http.get(f"{server.url}/admin/faults").json()
    answer = http.post(f"{server.url}/admin/faults", json=body)
    assert answer.status_code == 400 and answer.json()["error"]
    assert http.get(f"{server.url}/admin/faults").json() == before


def test_admin_faults_shows_and_clears_every_program(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """``GET /admin/faults`` shows the armed programs; ``DELETE`` clears them all, the paper included."""
    http, server = atol
    for body in (
        {"fault": "in_progress", "polls": 3},
        {"fault": "lose_reply", "on": "get", "times": 2},
        {"fault": "block", "printed": False, "polls": 4},
        {"fault": "paper_out"},
        {"fault": "cover_open"},
        {"fault": "disconnect"},
    ):
        assert http.post(f"{server.url}/admin/faults", json=body).status_code == 200
    armed = http.get(f"{server.url}/admin/faults").json()
    assert (armed["in_progress_polls"], armed["lose_reply_get"], armed["block"]) == (
        3,
        2,
        {"printed": False, "polls": 4},
    )
    assert armed["paper_out"] and armed["cover_open"] and armed["disconnected"]
    cleared = http.delete(f"{server.url}/admin/faults").json()["faults"]
    assert not (cleared["paper_out"] or cleared["cover_open"] or cleared["disconnected"])
    assert (cleared["in_progress_polls"], cleared["lose_reply_get"], cleared["block"]) == (0, 0, None)
    assert result(http, server.url, sell())["fiscalParams"]["fiscalDocumentNumber"] == 3
