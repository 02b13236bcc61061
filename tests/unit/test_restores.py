"""Restores are restores: a new FN's documents before its first sale are stored without counting as restored; what a
buffer that knew the FN lacks, or a lost buffer's sales, are counted, logged and audited."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from kkt_adapter.buffer import Buffer
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_adapter.intake.devices import DeviceUnit, open_unit
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.testing import FakeClock, FakeDriver

SALE = Receipt(
    pos_id="POS-001",
    operation="sale",
    items=(Item("Линза", 10000, Decimal(1), 10000, 1),),
    payments=(Payment("cash", 10000),),
)


def _unit(buffer: Buffer, driver: FakeDriver) -> DeviceUnit:
    return open_unit("main", driver, buffer, buffer.clock, capacity=100, retry_after_s=1, metrics=Metrics())


class TestFirstDocuments:
    def test_a_new_fns_documents_before_its_first_sale_are_not_restores(self, tmp_path: Path) -> None:
        """A fresh buffer and an FN that opened a shift by itself: catch-up stores the opening, counts no restore
        and audits none."""
        driver = FakeDriver()
        driver.open_shift(idempotency_key="opened-at-registration")
        buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
        unit = _unit(buffer, driver)
        try:
            assert unit.recovery.catch_up() == 1
            assert buffer.counts().pending == 1
            assert unit.recovery.metrics.restored._value.get() == 0
            assert not [event for event in buffer.events(limit=100) if event["kind"] == "restore"]
        finally:
            unit.close()
            buffer.close()

    def test_a_lost_buffer_counts_its_sales_and_what_follows_them_as_restored(self, tmp_path: Path) -> None:
        """The shift opening before the FN's first sale is a first document; the two sales after it and the Z report
        are restores of a lost buffer."""
        driver = FakeDriver()
        driver.open_shift(idempotency_key="opening")
        driver.print_receipt(SALE, idempotency_key="s1")
        driver.print_receipt(SALE, idempotency_key="s2")
        driver.close_shift(idempotency_key="z")
        buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
        unit = _unit(buffer, driver)
        try:
            assert unit.recovery.catch_up() == 4
            assert unit.recovery.metrics.restored._value.get() == 3
            (event,) = [event for event in buffer.events(limit=100) if event["kind"] == "restore"]
            assert "FD 2-4" in event["detail"]
        finally:
            unit.close()
            buffer.close()
