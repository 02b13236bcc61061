"""The routing of prints over several devices: failover only after a definite refusal, a key bound to one device."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kkt_adapter.buffer import Buffer, documents
from kkt_adapter.buffer.device_rows import DeviceRows
from kkt_adapter.domain.correction import Correction, build_correction
from kkt_adapter.domain.device import JournalEntry
from kkt_adapter.domain.errors import (
    DeviceRefused,
    DeviceRejectedReceipt,
    DeviceUnavailable,
    NoDeviceCouldPrint,
    OutcomeUnknown,
)
from kkt_adapter.domain.hlc import ZERO as HLC_ZERO
from kkt_adapter.domain.receipt import Item, ItemInput, Payment, Receipt
from kkt_adapter.domain.states import ReceiptState
from kkt_adapter.intake.devices import Devices, open_unit
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.testing import FakeClock, FakeDriver

SALE = Receipt(
    pos_id="POS-001",
    operation="sale",
    items=(Item("Линза", 10000, Decimal(1), 10000, 1),),
    payments=(Payment("cash", 10000),),
)
PAPER_OUT = DeviceRefused("paper_out", "paper out")

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Till:
    devices: Devices
    buffer: Buffer
    clock: FakeClock
    main: FakeDriver
    backup: FakeDriver
    metrics: Metrics

    def row(self, key: str) -> tuple[str, str]:
        stored = self.buffer.get_by_key(key)
        assert stored is not None
        return stored.state.value, stored.device


def _driver(fn_number: str) -> FakeDriver:
    driver = FakeDriver()
    driver.FN_NUMBER = fn_number  # type: ignore[misc]  # two devices, two fiscal drives
    return driver


@pytest.fixture
def till(tmp_path: Path) -> Iterator[Till]:
    clock = FakeClock()
    buffer = Buffer(tmp_path / "buffer.sqlite3", clock=clock)
    metrics = Metrics()
    main, backup = _driver("9999000000000001"), _driver("9999000000000002")
    units = []
    for index, (name, driver) in enumerate((("main", main), ("backup", backup))):
        units.append(  # as the adapter wires them
            open_unit(
                name,
                driver,
                buffer,
                clock,
                primary=index == 0,
                capacity=1000,
                retry_after_s=1,
                metrics=metrics,
                tz=ZoneInfo("Europe/Moscow"),
            )
        )
    devices = Devices(units, buffer, metrics=metrics, recheck_s=0)
    try:
        yield Till(devices, buffer, clock, main, backup, metrics)
    finally:
        for unit in units:
            unit.close()
        buffer.close()


def _keys(driver: FakeDriver) -> list[str]:
    return [key for key, _ in driver.printed]


async def test_a_sale_goes_to_the_primary(till: Till) -> None:
    """With every device usable, a sale naming no device prints on the primary, and its answer says so."""
    answer = await till.devices.accept(SALE, key="k1")
    assert '"device":"main"' in answer
    assert _keys(till.main) == ["k1"] and _keys(till.backup) == []
    assert till.row("k1") == ("pending", "main")


async def test_a_definite_refusal_moves_the_sale_to_the_next_device_and_is_audited(till: Till) -> None:
    """Paper out on the primary: the sale prints on the backup once, bound to it, with a failover event."""
    till.main.fault = PAPER_OUT
    answer = await till.devices.accept(SALE, key="k1")
    assert '"device":"backup"' in answer
    assert _keys(till.main) == [] and _keys(till.backup) == ["k1"]
    assert till.row("k1") == ("pending", "backup")
    (event,) = [event for event in till.buffer.events(limit=50) if event["kind"] == "failover"]
    assert event["detail"] == "main -> backup: paper_out: paper out"
    assert till.metrics.failovers.labels("main", "backup")._value.get() == 1


async def test_an_unknown_outcome_never_moves(till: Till) -> None:
    """The primary's outcome is unknown (an error after printing, and its journal not answering): the client gets
    OutcomeUnknown, the backup prints nothing, the key stays bound to the primary; once the journal answers, the
    resend is settled from the primary's document: one document in the two journals together."""
    till.main.crash_after_print = RuntimeError("reply lost")
    till.main.fail_lookup = TimeoutError("no answer")
    with pytest.raises(OutcomeUnknown):
        await till.devices.accept(SALE, key="k1")
    assert _keys(till.backup) == []
    assert till.row("k1") == ("accepted", "main")
    till.main.crash_after_print = till.main.fail_lookup = None
    till.clock.advance(61)  # the row is stale: the resend settles it from the journal
    answer = await till.devices.accept(SALE, key="k1")
    assert '"device":"main"' in answer
    assert _keys(till.main) == ["k1"] and _keys(till.backup) == []


async def test_a_content_rejection_is_not_moved(till: Till) -> None:
    """A receipt the primary refuses for its content would be refused anywhere: it is answered, not moved."""
    till.main.fault = DeviceRejectedReceipt("invalid_task", "bad line")
    with pytest.raises(DeviceRejectedReceipt):
        await till.devices.accept(SALE, key="k1")
    assert _keys(till.backup) == []


async def test_a_named_device_is_not_failed_over(till: Till) -> None:
    """A request naming the primary gets the primary's refusal, with the device's name; the backup prints nothing."""
    till.main.fault = PAPER_OUT
    with pytest.raises(DeviceRefused) as refused:
        await till.devices.accept(SALE, key="k1", device="main")
    assert refused.value.device == "main" and refused.value.code == "paper_out"
    assert _keys(till.backup) == []
    answer = await till.devices.accept(SALE, key="k2", device="backup")
    assert '"device":"backup"' in answer


async def test_every_device_refusing_names_each_reason(till: Till) -> None:
    """Both devices refuse before printing: NoDeviceCouldPrint carries each device's refusal; nothing printed."""
    till.main.fault = PAPER_OUT
    till.backup.fault = DeviceUnavailable("offline", "no link")
    with pytest.raises(NoDeviceCouldPrint) as refused:
        await till.devices.accept(SALE, key="k1")
    assert {name: exc.code for name, exc in refused.value.refusals.items()} == {
        "main": "paper_out",
        "backup": "offline",
    }
    assert "main: paper out (paper_out); backup: no link (offline)" in refused.value.reason
    assert till.row("k1")[0] == ReceiptState.PRINT_FAILED.value
    till.backup.fault = None
    assert '"device":"backup"' in await till.devices.accept(SALE, key="k1")  # the same key prints once it can


async def test_a_refusing_device_is_skipped_until_its_recheck_then_tried_first_again(till: Till) -> None:
    """With a recheck interval, sales skip a device that refused (it is not asked), and return to it after."""
    till.devices.recheck_s = 30
    till.main.fault = PAPER_OUT
    await till.devices.accept(SALE, key="k1")
    till.main.fault = None  # fixed, but not asked before the recheck
    await till.devices.accept(SALE, key="k2")
    assert _keys(till.backup) == ["k1", "k2"] and _keys(till.main) == []
    assert till.devices.primary.skipped_until == till.clock.time() + 30
    till.clock.advance(31)
    assert '"device":"main"' in await till.devices.accept(SALE, key="k3")
    assert till.devices.primary.skipped_until is None


async def test_a_replay_answers_from_the_device_that_printed_whatever_it_names(till: Till) -> None:
    """A printed key is bound for life: its resend naming the other device replays the first answer."""
    till.main.fault = PAPER_OUT
    first = await till.devices.accept(SALE, key="k1")
    till.main.fault = None
    assert await till.devices.accept(SALE, key="k1", device="main") == first
    assert _keys(till.main) == []


async def test_a_key_in_flight_on_one_device_is_settled_there(till: Till) -> None:
    """A row left ``accepted`` bound to the backup (a killed process): a resend naming no device is handed to the
    backup, which settles it from its journal; the primary is never asked to print it."""
    till.buffer.begin_accept(key="k1", receipt=SALE, capacity=1000, device="backup")
    till.backup.print_receipt(SALE, idempotency_key="k1")  # the backup printed it before the kill
    till.clock.advance(61)
    answer = await till.devices.accept(SALE, key="k1")
    assert '"device":"backup"' in answer
    assert _keys(till.main) == [] and _keys(till.backup) == ["k1"]


async def test_a_refund_goes_to_the_device_that_printed_its_sale(till: Till) -> None:
    """The sale printed on the backup (the primary out of paper); its refund goes to the backup though the primary
    prints again; with ``original_only`` and the backup out, the refund is refused and the primary prints nothing."""
    two = replace(SALE, items=(Item("Линза", 10000, Decimal(2), 20000, 1),), payments=(Payment("cash", 20000),))
    one = (Item("Линза", 10000, Decimal(1), 10000, 1),)
    till.main.fault = PAPER_OUT
    sale = await till.devices.accept(two, key="sale")
    till.main.fault = None
    sale_id = till.buffer.get_by_key("sale").receipt_id  # type: ignore[union-attr]
    refund = replace(
        SALE, operation="refund", original_receipt_id=sale_id, items=one, payments=(Payment("cash", 10000),)
    )
    assert '"device":"backup"' in sale
    assert '"device":"backup"' in await till.devices.accept(refund, key="refund-1")
    till.devices.refund_policy = "original_only"
    till.backup.fault = PAPER_OUT
    half = refund
    with pytest.raises(DeviceRefused):
        await till.devices.accept(half, key="refund-2")
    assert _keys(till.main) == []


def test_a_row_is_bound_to_the_device_that_takes_it_after_a_refusal(tmp_path: Path) -> None:
    """The buffer's accept transaction binds a fresh key, and a refused one retried elsewhere, to the new device;
    a key being printed answers InFlight naming its device."""
    buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
    try:
        fresh = buffer.begin_accept(key="k", receipt=SALE, capacity=10, device="main")
        busy = buffer.begin_accept(key="k", receipt=SALE, capacity=10, device="backup")
        assert getattr(busy, "device", None) == "main"
        buffer.fail_print(fresh.receipt_id, code="paper_out", reason="paper out")  # type: ignore[union-attr]
        buffer.begin_accept(key="k", receipt=SALE, capacity=10, device="backup")
        assert buffer.get_by_key("k").device == "backup"  # type: ignore[union-attr]
    finally:
        buffer.close()


async def test_a_key_another_process_may_still_be_printing_is_never_moved(till: Till) -> None:
    """A second process started while the first prints K on the primary: its start-up reconciliation finds nothing
    in the journal yet and marks K failed; the client's resend (even naming the backup) is printed on the primary
    again, idempotent by key, never on the backup; one document, one buffer row."""
    till.main.gate = threading.Event()  # the primary is slow: the first process's print of K is under way
    first = asyncio.ensure_future(till.devices.accept(SALE, key="K"))
    await _until(lambda: till.buffer.get_by_key("K") is not None)
    assert till.devices.primary.recovery.reconcile().not_printed == 1  # what a second process's start does
    resend = asyncio.ensure_future(till.devices.accept(SALE, key="K", device="backup"))
    await asyncio.sleep(0.05)
    till.main.gate.set()
    answers = await asyncio.gather(first, resend)
    assert all('"device":"main"' in answer for answer in answers)
    assert _keys(till.main) == ["K"] and _keys(till.backup) == []
    assert till.row("K") == ("pending", "main")


async def test_a_document_printed_on_a_device_the_row_is_not_bound_to_is_kept(till: Till) -> None:
    """Whatever led a device to print a key bound to another (a race this design closes), the document it signed is
    kept in the buffer for the OFD, and the row keeps its binding."""
    decision = till.buffer.begin_accept(key="K", receipt=SALE, capacity=1000, device="backup")
    printed = till.main.print_receipt(SALE, idempotency_key="K")
    till.buffer.complete_print(decision.receipt_id, printed, device="main")  # type: ignore[union-attr]
    assert till.row("K") == ("accepted", "backup")
    with till.buffer.db.read() as conn:
        kept = conn.execute("SELECT device, fn_number, fd_number FROM receipts WHERE idempotency_key <> 'K'").fetchall()
    assert [tuple(row) for row in kept] == [("main", till.main.FN_NUMBER, printed.fiscal_doc_number)]


async def test_shift_reports_with_one_key_on_two_devices_are_both_kept(till: Till) -> None:
    """The daily closing of two devices (one key when their shift numbers match): both Z reports reach the buffer;
    the backup's keys are its own."""
    for unit in till.devices.units:
        unit.shifts.close_at = dt.time(0, 1)
        unit.shifts._checked_at = dt.datetime.fromtimestamp(till.clock.time() - 86_400, ZoneInfo("Europe/Moscow"))
    await till.devices.accept(SALE, key="s1", device="main")
    await till.devices.accept(SALE, key="s2", device="backup")
    assert [await unit.shifts.close_if_due() for unit in till.devices.units] == [True, True]
    with till.buffer.db.read() as conn:
        closings = conn.execute(
            "SELECT device, idempotency_key FROM receipts WHERE doc_type = 5 ORDER BY seq"
        ).fetchall()
    assert [row[0] for row in closings] == ["main", "backup"]
    assert closings[1][1].startswith("backup:") and not closings[0][1].startswith("backup:")
    # The buffer keeps a second FN's document under a key another FN's document holds (a shift key a POS gave both).
    with till.buffer.db.write() as conn:
        entry = JournalEntry(till.backup.print_receipt(SALE, idempotency_key="s1"), "s1")
        inserted, _ = documents.insert_entries(conn, [entry], now=till.clock.time(), stamp=HLC_ZERO, device="backup")
    assert len(inserted) == 1


async def _until(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def test_rows_from_before_devices_are_named_after_the_primary_only_while_they_matter(tmp_path: Path) -> None:
    """Rows written before rows named their device: the undecided and undelivered ones become the primary's at
    start; delivered ones keep no name (a large buffer's history is not rewritten), and routing reads that as the
    primary's."""
    buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
    try:
        for key in ("accepted", "pending", "synced"):
            buffer.begin_accept(key=key, receipt=SALE, capacity=10)
        with buffer.db.write() as conn:
            conn.execute("UPDATE receipts SET device = ''")
            conn.execute("UPDATE receipts SET state = idempotency_key WHERE idempotency_key <> 'accepted'")
        assert DeviceRows(buffer.db, clock=buffer.clock).name_unnamed("front") == 2
        assert {key: buffer.get_by_key(key).device for key in ("accepted", "pending", "synced")} == {  # type: ignore[union-attr]
            "accepted": "front",
            "pending": "front",
            "synced": "",
        }
    finally:
        buffer.close()


async def test_a_correction_goes_to_the_device_that_printed_the_receipt_it_names(till: Till) -> None:
    """A correction naming the wrong receipt's fiscal sign (tag 1192) prints on the device that printed that receipt,
    though the primary can print; one naming none goes to the primary."""
    till.main.fault = PAPER_OUT
    wrong = json.loads(await till.devices.accept(SALE, key="wrong"))
    till.main.fault = None
    assert wrong["device"] == "backup"

    def correction(sign: str | None) -> Correction:
        return build_correction(
            pos_id="POS-001",
            operation="sale",
            items=[ItemInput("Линза", 10000, Decimal(1), "20")],
            payments=[Payment("cash", 10000)],
            correction_type="self",
            basis_date=dt.date(2025, 11, 30),
            corrected_fiscal_sign=sign,
        )

    named = await till.devices.accept(correction(wrong["fiscal_doc"]["fiscal_sign"]), key="c1")
    assert json.loads(named)["device"] == "backup"
    assert json.loads(await till.devices.accept(correction(None), key="c2"))["device"] == "main"
