"""The ATOL driver's batch print against the scripted fake of Web Requests: every job POSTed under its key's uuid
then polled in queue order, each job's own outcome (document, refusal, unknown), lost replies, a block in the
middle with the jobs behind it deleted, and a resend after a crash that prints nothing twice."""

from __future__ import annotations

import pytest

from kkt_adapter.devices.atol import AtolDriver, AtolOutcomeUnknown, job_uuid
from kkt_adapter.devices.atol.tasks import receipt_task
from kkt_adapter.devices.protocol import PrintJob, batch_limit
from kkt_adapter.domain.errors import DeviceRefused, DeviceUnavailable
from kkt_adapter.domain.fiscal import FiscalResult

from .fake_server import FakeWebRequests
from .test_atol_driver import SALE, make


@pytest.fixture
def server() -> FakeWebRequests:
    return FakeWebRequests()


def jobs(*keys: str) -> list[PrintJob]:
    return [PrintJob(SALE, key) for key in keys]


def ready(server: FakeWebRequests) -> AtolDriver:
    """A driver that already knows the FN's counter and the KKT's taxation system, with the fake's request counters
    zeroed."""
    driver, _ = make(server)
    driver.fn_status()
    driver.registered_taxation()
    server.posts = server.gets = 0
    return driver


def numbers(outcomes: list[FiscalResult | Exception]) -> list[int | None]:
    return [o.fiscal_doc_number if isinstance(o, FiscalResult) else None for o in outcomes]


def test_a_batch_prints_every_job_once_in_one_post_and_one_get_each(server: FakeWebRequests) -> None:
    """Five sales: five documents numbered in order, each under its key's attempt-0 uuid, in 5 POSTs and 5 GETs."""
    driver = ready(server)
    assert batch_limit(driver) > 1
    outcomes = driver.print_batch(jobs("k0", "k1", "k2", "k3", "k4"))
    assert numbers(outcomes) == [1, 2, 3, 4, 5]
    assert all(job_uuid(f"k{i}", 0) in server.jobs for i in range(5))
    assert (server.posts, server.gets, server.printing_jobs) == (5, 5, ["sell"] * 5)


def test_only_the_earliest_unfinished_job_is_polled(server: FakeWebRequests) -> None:
    """The first job reads inProgress for 3 polls: only it is polled meanwhile, then each later one is read once."""
    driver = ready(server)
    server.in_progress = 3
    outcomes = driver.print_batch(jobs("k0", "k1", "k2"))
    assert numbers(outcomes) == [1, 2, 3]
    assert server.gets == 3 + 1 + 2


def test_a_refusal_in_the_middle_fails_that_job_alone(server: FakeWebRequests) -> None:
    """The middle job refused (no paper): the others print, it alone is refused; its retry prints under attempt 1,
    once."""
    driver = ready(server)
    server.refuse_uuid[job_uuid("k1", 0)] = (44, "Нет бумаги")
    outcomes = driver.print_batch(jobs("k0", "k1", "k2"))
    assert numbers(outcomes) == [1, None, 2]
    assert isinstance(outcomes[1], DeviceRefused)
    assert outcomes[1].code == "paper_out"
    again = driver.print_batch(jobs("k1", "k3"))
    assert numbers(again) == [3, 4]
    assert job_uuid("k1", 1) in server.jobs
    assert server.fd == 4


def test_a_lost_reply_on_one_post_resends_that_uuid_and_prints_once(server: FakeWebRequests) -> None:
    """The answer to the middle job's POST is lost: the same uuid is resent (409, the job is ours), all print once."""
    driver = ready(server)
    server.lose_post_uuid.add(job_uuid("k1", 0))
    outcomes = driver.print_batch(jobs("k0", "k1", "k2"))
    assert numbers(outcomes) == [1, 2, 3]
    assert (server.posts, server.fd) == (4, 3)


@pytest.mark.parametrize("printed", [True, False])
def test_a_block_in_the_middle_leaves_it_unknown_and_deletes_the_jobs_behind(
    server: FakeWebRequests, printed: bool
) -> None:
    """The second job blocked past the timeout: the first printed, the blocked one unknown (never resent), the two
    behind it deleted (definitely not printed); once unblocked, the keys resolve and their retry prints once."""
    driver = ready(server)
    server.block_uuid[job_uuid("k1", 0)] = (printed, 0, True)
    outcomes = driver.print_batch(jobs("k0", "k1", "k2", "k3"))
    assert numbers(outcomes)[0] == 1
    assert isinstance(outcomes[1], AtolOutcomeUnknown)
    for behind in outcomes[2:]:
        assert isinstance(behind, DeviceUnavailable)
        assert behind.code == "queue_blocked"
    assert server.deletes == 2
    assert server.fd == 1 + printed
    server.unblock()
    assert (driver.find_by_key("k1") is not None) is printed
    assert driver.find_by_key("k2") is None
    retry = driver.print_batch(jobs("k1", "k2", "k3"))
    assert all(isinstance(outcome, FiscalResult) for outcome in retry)
    assert server.fd == 4
    assert job_uuid("k2", 1) in server.jobs


def test_a_job_behind_a_block_whose_delete_is_lost_is_unknown(server: FakeWebRequests) -> None:
    """The DELETE of a job behind the block gets no answer: that job's outcome is unknown, not a refusal."""
    driver = ready(server)
    server.block_uuid[job_uuid("k0", 0)] = (False, 0, True)
    server.lose_delete = True
    outcomes = driver.print_batch(jobs("k0", "k1"))
    assert isinstance(outcomes[0], AtolOutcomeUnknown)
    assert isinstance(outcomes[1], AtolOutcomeUnknown)
    assert server.fd == 0


def test_a_resend_after_a_crash_finds_the_jobs_and_prints_nothing_twice(server: FakeWebRequests) -> None:
    """Jobs POSTed by a process that then died: the new batch of the same keys gets 409s, reads those jobs' results,
    and prints only the key never sent; a second resend of the whole batch prints nothing."""
    crashed, _ = make(server)
    for key in ("k0", "k1"):
        crashed.transport.submit(job_uuid(key, 0), [receipt_task(SALE)])
    driver = ready(server)
    outcomes = driver.print_batch(jobs("k0", "k1", "k2"))
    assert numbers(outcomes) == [1, 2, 3]
    again = driver.print_batch(jobs("k0", "k1", "k2"))
    assert again == outcomes
    assert server.fd == 3


def test_a_job_that_cannot_be_written_fails_alone_and_is_not_sent(
    server: FakeWebRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job whose task cannot be built (here: the mapping raises for it) gets that error; the others print."""
    driver = ready(server)
    written = iter([True, False, True])

    def task(request: object) -> dict[str, object]:
        if not next(written):
            raise ValueError("no ATOL name for this value")
        return receipt_task(SALE)

    monkeypatch.setattr(driver, "_task", task)
    outcomes = driver.print_batch(jobs("k0", "k1", "k2"))
    assert numbers(outcomes) == [1, None, 2]
    assert isinstance(outcomes[1], ValueError)
    assert server.posts == 2
