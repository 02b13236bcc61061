"""A device's start: settled from its journal before it prints, also when it did not answer at the adapter's start;
a device name's FN recorded, and a change of it under undecided rows refused."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.device_fns import DeviceFns
from kkt_adapter.domain.device import DeviceState
from kkt_adapter.domain.errors import DeviceUnavailable
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_adapter.intake.device_start import retry_delay
from kkt_adapter.intake.devices import DeviceUnit, open_unit
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.testing import FakeClock, FakeDriver

SALE = Receipt(
    pos_id="POS-001",
    operation="sale",
    items=(Item("Линза", 10000, Decimal(1), 10000, 1),),
    payments=(Payment("cash", 10000),),
)


class SwitchedDriver(FakeDriver):
    """A :class:`FakeDriver` that does not answer at all while ``down`` (its Web Requests server stopped)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        #: The keys asked of the journal, in order, and the keys printed, in order, in one list: what came first.
        self.calls: list[str] = []

    def _answer(self) -> None:
        if self.down:
            raise DeviceUnavailable("offline", "ATOL web server http://127.0.0.1:16732 not reachable: ConnectError")

    def state(self) -> DeviceState:
        self._answer()
        return super().state()

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        self._answer()
        self.calls.append(f"find:{idempotency_key}")
        return super().find_by_key(idempotency_key)

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        self._answer()
        self.calls.append(f"print:{idempotency_key}")
        return super().print_receipt(receipt, idempotency_key=idempotency_key)


def _unit(buffer: Buffer, driver: FakeDriver, *, name: str = "main", kind: str = "atol") -> DeviceUnit:
    return open_unit(name, driver, buffer, buffer.clock, kind=kind, capacity=100, retry_after_s=1, metrics=Metrics())


class TestRetryDelay:
    @pytest.mark.parametrize(("failures", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (40, 30.0)])
    def test_doubles_from_the_base_up_to_the_cap(self, failures: int, delay: float) -> None:
        """1, 2, 4, ... seconds between attempts, never more than 30."""
        assert retry_delay(failures, base=1.0, cap=30.0) == delay


class TestDeferredStart:
    def test_a_row_left_accepted_is_settled_before_the_first_print_after_the_device_answers(
        self, tmp_path: Path
    ) -> None:
        """Killed after the device printed ``left``; at the next start the device is down: a sale is refused before
        printing (503 ``offline`` naming what to check) and ``left`` stays accepted; once the device answers, the
        start settles ``left`` from the journal before the next sale prints, and nothing prints twice."""
        clock = FakeClock()
        driver = SwitchedDriver()
        buffer = Buffer(tmp_path / "buffer.sqlite3", clock=clock)
        unit = _unit(buffer, driver)

        async def scenario() -> None:
            buffer.begin_accept(key="left", receipt=SALE, capacity=100, device="main")
            driver.print_receipt(SALE, idempotency_key="left")
            driver.down = True
            assert await unit.start.step() == "waiting"
            status = await unit.device_status()
            assert status.problem is not None and "Web Requests service runs" in status.problem
            with pytest.raises(DeviceUnavailable, match="not answering"):
                await unit.fiscalizer.accept(SALE, key="new")
            assert buffer.get_by_key("left").state == "accepted"  # type: ignore[union-attr]
            driver.down = False
            assert await unit.start.step() == "not_due", "the next attempt waits for its backoff"
            clock.advance(1.0)
            assert await unit.start.step() == "settled"
            assert (await unit.device_status()).problem is None
            assert buffer.get_by_key("left").state == "pending"  # type: ignore[union-attr]
            await unit.fiscalizer.accept(SALE, key="new2")
            assert driver.calls.index("find:left") < driver.calls.index("print:new2")
            assert [key for key, _ in driver.printed] == ["left", "new2"]

        try:
            asyncio.run(scenario())
        finally:
            unit.close()
            buffer.close()

    def test_a_status_probe_that_the_device_answers_makes_its_start_due_at_once(self, tmp_path: Path) -> None:
        """Health asking a held device that answers again: the next check settles it without waiting its backoff."""
        driver = SwitchedDriver()
        driver.down = True
        buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
        unit = _unit(buffer, driver)

        async def scenario() -> None:
            assert await unit.start.step() == "waiting"
            driver.down = False
            assert await unit.start.step() == "not_due"
            assert (await unit.device_status()).problem is not None, "still held until settled"
            assert await unit.start.step() == "settled"

        try:
            asyncio.run(scenario())
        finally:
            unit.close()
            buffer.close()

    def test_a_name_that_reaches_another_fn_under_undecided_rows_does_not_print(self, tmp_path: Path) -> None:
        """The buffer recorded another FN for ``main`` and a row bound to it is accepted: the start holds the device,
        naming both FNs and what to do, and neither settles nor prints anything."""
        driver = SwitchedDriver()
        buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
        DeviceFns(buffer.db, clock=buffer.clock).see("main", "9999078900000001")
        buffer.begin_accept(key="left", receipt=SALE, capacity=100, device="main")
        unit = _unit(buffer, driver)

        async def scenario() -> None:
            assert await unit.start.step() == "waiting"
            reason = unit.start.gate.reason or ""
            assert "9999078900000001" in reason and FakeDriver.FN_NUMBER in reason and "point 'main' back" in reason
            with pytest.raises(DeviceUnavailable):
                await unit.fiscalizer.accept(SALE, key="new")

        try:
            asyncio.run(scenario())
            assert driver.calls == []
            assert buffer.get_by_key("left").state == "accepted"  # type: ignore[union-attr]
        finally:
            unit.close()
            buffer.close()


class TestDeviceFns:
    def test_a_new_name_is_recorded_and_a_replacement_without_undecided_rows_too(self, tmp_path: Path) -> None:
        """First sight records the FN; the same FN changes nothing; another FN with nothing undecided is recorded
        (an FN replacement), and survives reopening the file."""
        path = tmp_path / "buffer.sqlite3"
        buffer = Buffer(path, clock=FakeClock())
        fns = DeviceFns(buffer.db, clock=buffer.clock)
        first = fns.see("main", "1")
        assert (first.previous, first.changed, first.refused) == (None, False, False)
        assert not fns.see("main", "1").changed
        replaced = fns.see("main", "2")
        assert (replaced.previous, replaced.changed, replaced.refused) == ("1", True, False)
        buffer.close()
        reopened = Buffer(path, clock=FakeClock())
        try:
            assert DeviceFns(reopened.db, clock=reopened.clock).recorded("main") == "2"
        finally:
            reopened.close()

    def test_a_change_under_undecided_rows_is_refused_and_not_recorded(self, tmp_path: Path) -> None:
        """An ``accepted`` row bound to the name: the change is refused, counted, and the old FN stays recorded;
        another name's rows do not count."""
        buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
        try:
            fns = DeviceFns(buffer.db, clock=buffer.clock)
            fns.see("main", "1")
            fns.see("spare", "7")
            buffer.begin_accept(key="left", receipt=SALE, capacity=100, device="main")
            seen = fns.see("main", "2")
            assert (seen.refused, seen.undecided) == (True, 1)
            assert fns.recorded("main") == "1"
            assert not fns.see("spare", "8").refused
        finally:
            buffer.close()
