"""The receipt path's batches: receipts waiting for the device print in one driver call, each keeping its promises."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.devices.emulated import EmulatedDriver
from kkt_adapter.devices.protocol import PrintJob, batch_limit, print_batch
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.intake.devices import open_unit
from kkt_adapter.intake.fiscalizer import Fiscalizer
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.testing import FakeClock, FakeDriver, bodies, wait_for

SALE: dict[str, Any] = bodies.sale()
#: The emulated KKT is registered under OSN only: a sale under USN is refused by the device, nothing printed.
REFUSED_SALE: dict[str, Any] = SALE | {"taxation": "usn_income"}


class RecordingDriver(EmulatedDriver):
    """The emulated driver, remembering the size of every batch it was handed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def print_batch(self, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
        self.batches.append(len(jobs))
        return super().print_batch(jobs)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[RecordingDriver]:
    device = RecordingDriver(tmp_path / "device", print_delay_ms=0, clock=FakeClock())
    yield device
    device.close()


@pytest.fixture
def client(tmp_path: Path, driver: RecordingDriver) -> Iterator[TestClient]:
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path / "data"), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=FakeClock(), driver=driver)) as c:
        yield c


def fiscalizer_of(client: TestClient) -> Fiscalizer:
    found: Fiscalizer = client.app.state.adapter.devices.primary.fiscalizer  # type: ignore[attr-defined]
    return found


def post(client: TestClient, key: str, body: dict[str, Any] = SALE) -> Any:
    return client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})


def hold_device(fiscalizer: Fiscalizer) -> threading.Event:
    """Occupy the device's thread until the returned event is set, so that prints queue up behind it."""
    release = threading.Event()
    fiscalizer.lane._thread.submit(release.wait, 10)
    return release


def queued(fiscalizer: Fiscalizer, count: int) -> None:
    wait_for(lambda: fiscalizer.lane._prints.qsize() >= count, timeout=5, what=f"{count} prints queued for the device")


def test_one_refused_receipt_fails_alone_and_the_others_of_its_batch_print(
    client: TestClient, driver: RecordingDriver
) -> None:
    """In one batch, the receipt the device refuses gets 422 and stays unprinted; the others print, numbered
    without a gap."""
    post(client, "warm-up")  # the first sale opens the shift
    fiscalizer = fiscalizer_of(client)
    release = hold_device(fiscalizer)
    keys = ["a", "b", "refused", "c", "d"]
    with ThreadPoolExecutor(len(keys)) as pool:
        answers: dict[str, Future[Any]] = {}
        for key in keys:
            answers[key] = pool.submit(post, client, key, REFUSED_SALE if key == "refused" else SALE)
            queued(fiscalizer, len(answers))
        release.set()
        responses = {key: answer.result() for key, answer in answers.items()}
    assert driver.batches[-1] == len(keys), "the five receipts were printed in one batch"
    assert responses["refused"].status_code == 422
    assert responses["refused"].json()["error"] == "invalid_task"
    printed = {key: responses[key].json()["fiscal_doc"]["fiscal_doc_number"] for key in keys if key != "refused"}
    assert all(responses[key].status_code == 200 for key in printed)
    assert sorted(printed.values()) == list(range(min(printed.values()), min(printed.values()) + 4))
    assert driver.find_by_key("refused") is None
    stored = fiscalizer.buffer.get_by_key("refused")
    assert stored is not None and stored.state.value == "print_failed"
    assert post(client, "refused", REFUSED_SALE).status_code == 422, "the resend is refused again, nothing printed"
    assert driver.device.status().last_fd_number == max(printed.values())


def test_a_replay_arriving_while_its_key_waits_in_a_batch_shares_its_print(
    client: TestClient, driver: RecordingDriver
) -> None:
    """A resend of a key whose receipt is queued for the device gets the same answer, and the device prints once."""
    from kkt_adapter.api.schemas import ReceiptIn

    fiscalizer = fiscalizer_of(client)
    receipt = ReceiptIn.model_validate(SALE).to_receipt()
    release = hold_device(fiscalizer)

    async def replay_then_release() -> str:
        replay = asyncio.ensure_future(fiscalizer.accept(receipt, key="k1"))
        for _ in range(20):
            await asyncio.sleep(0)  # the replay reaches its await: it joins the print already queued
        assert not replay.done()
        assert fiscalizer.lane._prints.qsize() == 2, "k1 and k2 still wait for the device, nothing else was queued"
        release.set()
        return await replay

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(post, client, "k1")
        other = pool.submit(post, client, "k2")
        queued(fiscalizer, 2)
        replayed = client.portal.call(replay_then_release)  # type: ignore[union-attr]
        answers = first.result(), other.result()
    assert [answer.status_code for answer in answers] == [200, 200]
    assert json.loads(replayed) == answers[0].json()
    assert answers[0].json() != answers[1].json()
    assert driver.batches[-1] == 2
    keys = [entry.key for entry in driver.journal(after_fd=0, limit=100)]
    assert keys.count("k1") == 1


def test_a_driver_without_a_batch_call_prints_one_by_one(tmp_path: Path) -> None:
    """A driver that has only the FiscalDriver methods gets one job per call and every job's own outcome."""
    from kkt_adapter.api.schemas import ReceiptIn
    from kkt_adapter.domain.errors import DeviceRejectedReceipt

    driver = FakeDriver()
    receipt = ReceiptIn.model_validate(SALE).to_receipt()
    assert batch_limit(driver) == 1
    outcomes = print_batch(driver, [PrintJob(receipt, "x"), PrintJob(receipt, "y")])
    assert [o.fiscal_doc_number for o in outcomes if isinstance(o, FiscalResult)] == [1, 2]
    driver.fault = DeviceRejectedReceipt("invalid_task", "refused")
    (refused,) = print_batch(driver, [PrintJob(receipt, "z")])
    assert isinstance(refused, DeviceRejectedReceipt)


def test_the_emulated_driver_batches_only_without_a_print_delay(tmp_path: Path) -> None:
    """With a print delay each document waits its own delay, so the emulated driver takes one job at a time."""
    instant = EmulatedDriver(tmp_path / "a", print_delay_ms=0, clock=FakeClock())
    slow = EmulatedDriver(tmp_path / "b", print_delay_ms=1, clock=FakeClock())
    try:
        assert batch_limit(instant) > 1
        assert batch_limit(slow) == 1
    finally:
        instant.close()
        slow.close()


#: A process that queues ten receipts behind a held device, releases them as one batch, and is SIGKILLed at ``where``.
CHILD = """
import asyncio, os, signal, sys, threading
from pathlib import Path
from kkt_adapter.api.schemas import ReceiptIn
from kkt_adapter.buffer import Buffer
from kkt_adapter.devices import lane as lane_module
from kkt_adapter.devices.emulated import EmulatedDriver
from kkt_adapter.intake.devices import open_unit
from kkt_adapter.status.metrics import Metrics
from kkt_clock import SystemClock
from kkt_emulators.device import printer

data, where = Path(sys.argv[1]), sys.argv[2]
SALE = {SALE!r}

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

if where == "inside_the_journal_transaction":
    original_one = printer.Printer._one_in_batch
    seen = []
    def one_then_kill(self, conn, step):
        seen.append(step)
        if len(seen) == 5:
            kill()
        return original_one(self, conn, step)
    printer.Printer._one_in_batch = one_then_kill
else:
    original_batch = lane_module.DeviceLane._print_batch
    def batch_then_kill(self, batch):
        original_batch(self, batch)
        kill()
    lane_module.DeviceLane._print_batch = batch_then_kill

clock = SystemClock()
buffer = Buffer(data / "buffer.sqlite3", clock=clock)
driver = EmulatedDriver(data / "device", print_delay_ms=0, clock=clock)
fiscalizer = open_unit("main", driver, buffer, clock, capacity=1000, retry_after_s=1, metrics=Metrics()).fiscalizer
receipt = ReceiptIn.model_validate(SALE).to_receipt()

async def main():
    release = threading.Event()
    fiscalizer.lane._thread.submit(release.wait, 10)
    tasks = [asyncio.ensure_future(fiscalizer.accept(receipt, key=f"k{{i}}")) for i in range(10)]
    while fiscalizer.lane._prints.qsize() < 10:
        await asyncio.sleep(0.001)
    release.set()
    await asyncio.gather(*tasks)

asyncio.run(main())
"""


@pytest.mark.parametrize("where", ["inside_the_journal_transaction", "after_the_journal_commit"])
def test_a_process_killed_inside_a_batch_loses_nothing_and_prints_nothing_twice(tmp_path: Path, where: str) -> None:
    """SIGKILL while a batch of ten is in the device's transaction leaves none printed (their resends print each
    once); SIGKILL after its commit leaves all ten printed, and start-up settles them from the journal."""
    import subprocess
    import sys

    from kkt_adapter.api.schemas import ReceiptIn
    from kkt_adapter.buffer import Buffer
    from kkt_clock import SystemClock

    data = tmp_path / "data"
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(SALE=SALE), str(data), where], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == -9, child.stderr
    clock = SystemClock()
    buffer = Buffer(data / "buffer.sqlite3", clock=clock)
    driver = EmulatedDriver(data / "device", print_delay_ms=0, clock=clock)
    unit = open_unit("main", driver, buffer, clock, capacity=1000, retry_after_s=1, metrics=Metrics())
    fiscalizer = unit.fiscalizer
    try:
        keys = [f"k{i}" for i in range(10)]
        assert all(buffer.get_by_key(key) is not None for key in keys), "every key was stored before printing"
        report = unit.recovery.reconcile()
        printed = [key for key in keys if driver.find_by_key(key) is not None]
        if where == "inside_the_journal_transaction":
            assert printed == [] and (report.recovered, report.not_printed) == (0, 10)
            receipt = ReceiptIn.model_validate(SALE).to_receipt()

            async def resend_all() -> list[str]:
                return [await fiscalizer.accept(receipt, key=key) for key in keys]

            asyncio.run(resend_all())
        else:
            assert printed == keys and (report.recovered, report.not_printed) == (10, 0)
        journal = driver.journal(after_fd=0, limit=100)
        assert sorted(entry.key for entry in journal if entry.key in keys) == sorted(keys), "each key printed once"
        numbers = [entry.result.fiscal_doc_number for entry in journal]
        assert numbers == list(range(1, len(numbers) + 1)), "the FD numbers run without a gap"
        for key in keys:
            stored = buffer.get_by_key(key)
            found = driver.find_by_key(key)
            assert stored is not None and found is not None
            assert stored.state.value == "pending"
            assert stored.fiscal is not None and stored.fiscal.fiscal_doc_number == found.fiscal_doc_number
    finally:
        unit.close()
        driver.close()
        buffer.close()


class LosesAnswers(EmulatedDriver):
    """Prints the batch, then fails as if the connection to the KKT broke before the answer came back."""

    def print_batch(self, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
        super().print_batch(jobs)
        raise ConnectionError("the KKT's answer was lost")


def test_a_batch_whose_answer_is_lost_is_settled_from_the_journal_without_printing_again(tmp_path: Path) -> None:
    """Outcome unknown for a whole batch: each receipt is found in the device's journal by its key and answered
    with that document; nothing is printed twice."""
    driver = LosesAnswers(tmp_path / "device", print_delay_ms=0, clock=FakeClock())
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path / "data"), "KKT_SYNC_ENABLED": "false"})
    try:
        with TestClient(create_app(settings, clock=FakeClock(), driver=driver)) as client:
            fiscalizer = fiscalizer_of(client)
            release = hold_device(fiscalizer)
            keys = ["a", "b", "c"]
            with ThreadPoolExecutor(len(keys)) as pool:
                answers = [pool.submit(post, client, key) for key in keys]
                queued(fiscalizer, len(keys))
                release.set()
                responses = [answer.result() for answer in answers]
            assert [response.status_code for response in responses] == [200, 200, 200]
            for key, response in zip(keys, responses, strict=True):
                found = driver.find_by_key(key)
                assert found is not None
                assert response.json()["fiscal_doc"]["fiscal_doc_number"] == found.fiscal_doc_number
            journal_keys = [entry.key for entry in driver.journal(after_fd=0, limit=100)]
            assert sorted(k for k in journal_keys if k in keys) == keys
    finally:
        driver.close()
