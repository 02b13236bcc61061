"""The ATOL emulator's routes and status codes over real HTTP: jobs (201, 409, 404, 400), cancelling, the queue's
status, server info, devices, the synchronous operations, Basic auth, and the older ``/requests`` dialect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from atol_helpers import new_uuid, post, result, results, run, sell, settled, shift, to_json

from kkt_adapter.testing import wait_for
from kkt_emulators import MockAtolServer


@pytest.fixture
def atol() -> Iterator[tuple[httpx.Client, MockAtolServer]]:
    """A started emulator and a client."""
    with MockAtolServer(port=0) as server, httpx.Client(timeout=5.0) as http:
        yield http, server


def test_post_answers_201_with_the_job_number_and_the_queue_block(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """A new job is 201 ``{"number", "uuid", "isBlocked", "blockedUUID", "blockReason"}``."""
    http, server = atol
    job = new_uuid()
    answer = http.post(f"{server.url}/api/v2/requests", content=to_json({"uuid": job, "request": [sell()]}))
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"number", "uuid", "isBlocked", "blockedUUID", "blockReason"}
    assert body["uuid"] == job and body["number"] >= 1 and body["isBlocked"] is False
    assert body["blockReason"]["code"] == 0


def test_a_repeated_uuid_is_409_and_the_first_job_stays(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """A second POST with a known uuid is 409 ``{"error": {"code", "description"}}``, whatever its tasks."""
    http, server = atol
    job = post(http, server.url, [sell()])
    again = http.post(f"{server.url}/api/v2/requests", content=to_json({"uuid": job, "request": {"type": "reportX"}}))
    assert again.status_code == 409
    assert set(again.json()["error"]) == {"code", "description"} and "UUID" in again.json()["error"]["description"]
    (entry,) = settled(http, server.url, job)
    assert "fiscalParams" in entry["result"]


@pytest.mark.parametrize(
    "body",
    [b'{"uuid": "a"}', b'{"uuid": "a", "request": []}', b'{"request": [{"type": "reportX"}]}', b"not json", b"[1]"],
)
def test_a_post_without_uuid_or_request_is_400(atol: tuple[httpx.Client, MockAtolServer], body: bytes) -> None:
    """No ``request`` (or an empty one), no ``uuid``, or a body that is not a JSON object: 400, nothing queued."""
    http, server = atol
    answer = http.post(f"{server.url}/api/v2/requests", content=body)
    assert answer.status_code == 400 and "error" in answer.json()
    assert http.get(f"{server.url}/api/v2/requests/a").status_code == 404


def test_unknown_jobs_are_404_for_get_and_delete(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """GET and DELETE of a uuid never posted answer 404."""
    http, server = atol
    assert http.get(f"{server.url}/api/v2/requests/{new_uuid()}").status_code == 404
    assert http.delete(f"{server.url}/api/v2/requests/{new_uuid()}").status_code == 404


def test_delete_cancels_a_waiting_job_and_refuses_a_started_one(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """Behind a blocked job, a waiting job is cancelled with 200 (its tasks ``canceled``, 503); the blocked one
    cannot be (409), nor a finished one."""
    http, server = atol
    server.faults.block(printed=False, polls=0)
    blocked = post(http, server.url, [sell()])
    waiting = post(http, server.url, [sell(), {"type": "getFnStatus"}])
    wait_for(lambda: http.get(f"{server.url}/api/v2/getRequestsQueueStatus").json()["isBlocked"], what="a block")
    assert [entry["status"] for entry in results(http, server.url, waiting)] == ["wait", "wait"]
    assert http.delete(f"{server.url}/api/v2/requests/{blocked}").status_code == 409
    assert http.delete(f"{server.url}/api/v2/requests/{waiting}").status_code == 200
    canceled = results(http, server.url, waiting)
    assert [(entry["status"], entry["error"]["code"]) for entry in canceled] == [("canceled", 503)] * 2
    assert http.get(f"{server.url}/api/v2/getRequestsQueueStatus").json()["canceled"] == 1
    server.faults.clear()
    settled(http, server.url, blocked)
    assert http.delete(f"{server.url}/api/v2/requests/{blocked}").status_code == 409
    assert http.delete(f"{server.url}/api/v2/requests/{waiting}").status_code == 409


def test_queue_status_counts_and_names_the_block(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """``getRequestsQueueStatus`` has number, ready, canceled and the block fields; a blocked queue names its job."""
    http, server = atol
    run(http, server.url, [sell()])
    status = http.get(f"{server.url}/api/v2/getRequestsQueueStatus").json()
    assert set(status) == {"number", "ready", "canceled", "isBlocked", "blockedUUID", "blockReason"}
    assert (status["number"], status["ready"], status["isBlocked"]) == (0, 1, False)
    server.faults.block(printed=True, polls=0)
    job = post(http, server.url, [sell()])
    post(http, server.url, [{"type": "getFnStatus"}])

    def blocked() -> dict[str, object] | None:
        found = http.get(f"{server.url}/api/v2/getRequestsQueueStatus").json()
        return found if found["isBlocked"] else None

    status = wait_for(blocked, timeout=10, what="the queue to block")
    assert status["blockedUUID"] == job and status["number"] == 2
    assert status["blockReason"]["code"] == 2  # type: ignore[index]


def test_server_info_and_devices(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """``serverInfo`` gives the versions and the device's time; ``devices`` lists device 1, also as ``default``;
    an unknown device is 404, also as ``deviceID`` of a POST."""
    http, server = atol
    info = http.get(f"{server.url}/api/v2/serverInfo").json()
    assert set(info) == {"serverVersion", "driverVersion", "currentDateTime"}
    (device,) = http.get(f"{server.url}/api/v2/devices").json()["devices"]
    assert device["id"] == "1" and device["default"] is True
    assert device["fnNumber"] == server.kkt.registration.fn_number
    assert http.get(f"{server.url}/api/v2/devices/default").json() == device
    assert http.get(f"{server.url}/api/v2/devices/1").json() == device
    assert http.get(f"{server.url}/api/v2/devices/7").status_code == 404
    body = to_json({"uuid": new_uuid(), "request": [sell()]})
    assert http.post(f"{server.url}/api/v2/requests?deviceID=7", content=body).status_code == 404
    assert http.post(f"{server.url}/api/v2/requests?deviceID=1", content=body).status_code == 201


@pytest.mark.parametrize(
    ("operation", "task"),
    [
        ("queryDeviceStatus", "getDeviceStatus"),
        ("queryShiftStatus", "getShiftStatus"),
        ("queryFnInfo", "getFnInfo"),
        ("queryFnStatus", "getFnStatus"),
        ("queryOfdExchangeStatus", "ofdExchangeStatus"),
    ],
)
def test_each_operation_answers_what_its_task_returns(
    atol: tuple[httpx.Client, MockAtolServer], operation: str, task: str
) -> None:
    """``POST /api/v2/operations/<query>`` answers synchronously the object the matching task returns."""
    http, server = atol
    run(http, server.url, [sell()])
    answer = http.post(f"{server.url}/api/v2/operations/{operation}")
    assert answer.status_code == 200
    expected = result(http, server.url, {"type": task})
    body = answer.json()
    if task == "getDeviceStatus":  # the device's clock may tick between the two reads
        body["deviceStatus"].pop("currentDateTime")
        expected["deviceStatus"].pop("currentDateTime")
    assert body == expected
    assert http.post(f"{server.url}/api/v2/operations/queryNothing").status_code == 404


def test_basic_auth_guards_everything_but_server_info() -> None:
    """With a user, requests without or with wrong credentials are 401; the right ones pass; serverInfo is open."""
    with MockAtolServer(port=0, user="kassa", password="s3cret") as server, httpx.Client(timeout=5.0) as http:
        body = to_json({"uuid": new_uuid(), "request": [sell()]})
        denied = http.post(f"{server.url}/api/v2/requests", content=body)
        assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Basic")
        wrong = http.post(f"{server.url}/api/v2/requests", content=body, auth=("kassa", "guess"))
        assert wrong.status_code == 401
        assert http.get(f"{server.url}/api/v2/getRequestsQueueStatus").status_code == 401
        assert http.post(f"{server.url}/api/v2/operations/queryFnStatus").status_code == 401
        assert http.get(f"{server.url}/api/v2/serverInfo").status_code == 200
        assert http.post(f"{server.url}/api/v2/requests", content=body, auth=("kassa", "s3cret")).status_code == 201
        assert server.kkt.status().last_fd_number <= 3  # only the authorised POST may print


def test_the_older_dialect_answers_flat_results(atol: tuple[httpx.Client, MockAtolServer]) -> None:
    """``POST /requests`` queues a job; ``GET /requests/{uuid}`` answers ``status``, ``errorCode``,
    ``errorDescription`` and ``result`` per task, errors and interruptions included; 404 and 409 as in v2."""
    http, server = atol
    job = post(http, server.url, [sell(), shift(), {"type": "getFnStatus"}], path="/requests")
    first, second, third = settled(http, server.url, job, path="/requests")
    assert set(first) == {"status", "errorCode", "errorDescription", "result"} and first["errorCode"] == 0
    assert first["result"]["fiscalParams"]["fiscalDocumentNumber"] == 3
    assert (second["status"], second["errorCode"]) == ("error", 83) and "result" not in second
    assert (third["status"], third["errorCode"]) == ("interrupted", 502)
    assert http.get(f"{server.url}/requests/{new_uuid()}").status_code == 404
    again = http.post(f"{server.url}/requests", content=to_json({"uuid": job, "request": [sell()]}))
    assert again.status_code == 409
    v2 = results(http, server.url, job)  # the same job through the v2 route
    assert v2[1]["error"] == {"code": 83, "description": second["errorDescription"]}


def test_default_port_and_a_single_start(tmp_path: Path) -> None:
    """Without a port the emulator listens on 16732 on loopback; a second start is refused and the running server
    (and its device) keeps working."""
    unstarted = MockAtolServer(data_dir=tmp_path / "unused")
    assert unstarted.url == "http://127.0.0.1:16732"
    unstarted.stop()  # the device it opened is closed, though it never served
    with MockAtolServer(port=0, data_dir=tmp_path / "kkt") as server, httpx.Client(timeout=5.0) as http:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
        assert result(http, server.url, {"type": "getShiftStatus"})["shiftStatus"]["state"] == "closed"
    assert (tmp_path / "kkt").is_dir()  # a directory given by the caller stays


def test_a_duplicate_post_does_not_take_the_next_jobs_in_progress_fault(
    atol: tuple[httpx.Client, MockAtolServer],
) -> None:
    """A 409 for a known uuid consumes no fault: the next new job still reads ``inProgress`` once after it finished."""
    http, server = atol
    job = post(http, server.url, [{"type": "getShiftStatus"}])
    settled(http, server.url, job)
    server.faults.in_progress(polls=1)
    again = http.post(f"{server.url}/api/v2/requests", content=to_json({"uuid": job, "request": [sell()]}))
    assert again.status_code == 409
    fresh = post(http, server.url, [{"type": "getShiftStatus"}])
    wait_for(lambda: http.get(f"{server.url}/api/v2/getRequestsQueueStatus").json()["number"] == 0, what="done")
    assert results(http, server.url, fresh)[0]["status"] == "inProgress"
    assert results(http, server.url, fresh)[0]["status"] == "ready"


def test_a_printing_job_reads_in_progress_while_the_device_prints() -> None:
    """With a print delay, a sale is ``inProgress`` while the device prints and a job behind it ``wait``s; both end
    ``ready``."""
    with MockAtolServer(port=0, print_delay_ms=150) as server, httpx.Client(timeout=5.0) as http:
        printing = post(http, server.url, [sell()])
        behind = post(http, server.url, [{"type": "getFnStatus"}])
        wait_for(lambda: results(http, server.url, printing)[0]["status"] == "inProgress", what="inProgress")
        assert results(http, server.url, behind)[0]["status"] == "wait"
        assert settled(http, server.url, printing)[0]["status"] == "ready"
        assert settled(http, server.url, behind)[0]["result"]["fnStatus"]["fiscalDocumentNumber"] == 3


def test_an_existing_device_is_served_and_left_open(tmp_path: Path) -> None:
    """``MockAtolServer(kkt=device)`` prints on that device and leaves it open at stop."""
    from kkt_emulators import EmulatedKKT

    with EmulatedKKT(tmp_path, print_delay_ms=0) as kkt:
        with MockAtolServer(port=0, kkt=kkt) as server, httpx.Client(timeout=5.0) as http:
            fd = result(http, server.url, sell())["fiscalParams"]["fiscalDocumentNumber"]
        document = kkt.find_by_number(fd)
        assert document is not None and document.doc_type == 3
