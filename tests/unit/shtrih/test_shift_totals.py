"""The Shtrih-M driver's X and Z reports carry the shift's money, read from the KKT's registers before 41h clears
them, and agree with the emulated FN's own shift totals."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kkt_adapter.devices.shtrih import ShtrihDriver, connect
from kkt_adapter.devices.shtrih.errors import refusal
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_clock import SystemClock
from kkt_emulators.shtrih import MockShtrihServer


def receipt(total: int, *payments: Payment, operation: str = "sale") -> Receipt:
    item = Item("Хлеб", total, Decimal(1), total, 11)
    return Receipt("pos-1", operation, (item,), payments)  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockShtrihServer]:
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt") as kkt:
        yield kkt


@pytest.fixture
def driver(server: MockShtrihServer, tmp_path: Path) -> Iterator[ShtrihDriver]:
    made = connect(server.url, tmp_path / "state", clock=SystemClock(), byte_timeout=0.15, answer_timeout=0.5)
    yield made
    made.close()


def test_x_and_z_reports_carry_the_shift_money(server: MockShtrihServer, driver: ShtrihDriver) -> None:
    """Two sales (cash with change, card), a prepaid sale and a cash refund: sums and counts by operation, net money
    by payment kind; the Z report carries what the shift held, and the next shift starts from zero."""
    driver.open_shift(idempotency_key="open")
    driver.print_receipt(receipt(12_345, Payment("cash", 20_000)), idempotency_key="s1")
    driver.print_receipt(receipt(500, Payment("electronic", 500)), idempotency_key="s2")
    driver.print_receipt(receipt(700, Payment("prepaid", 700)), idempotency_key="s3")
    driver.print_receipt(receipt(1_000, Payment("cash", 1_000), operation="refund"), idempotency_key="r1")
    x = driver.print_x_report()
    assert x.totals_by_operation == {"sale": 13_545, "expense": 0, "refund": 1_000, "expense_refund": 0}
    assert x.counts_by_operation == {"sale": 3, "expense": 0, "refund": 1, "expense_refund": 0}
    assert x.totals_by_payment == {"cash": 11_345, "electronic": 500, "prepaid": 700, "credit": 0, "provision": 0}
    fn = server.kkt.x_report()  # the emulated FN's own counters: the registers are read from the same shift
    assert fn.totals_by_payment["cash"] == x.totals_by_payment["cash"]
    assert fn.totals_by_operation[1] == x.totals_by_operation["sale"]

    _, z = driver.close_shift(idempotency_key="z")
    assert (z.open, z.totals_by_payment, z.counts_by_operation) == (False, x.totals_by_payment, x.counts_by_operation)
    driver.open_shift(idempotency_key="open-2")
    assert set(driver.print_x_report().totals_by_operation.values()) == {0}


def test_a_kkt_without_two_byte_registers_reports_no_totals_for_those_kinds(
    driver: ShtrihDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KKT that refuses register numbers over 255 (the guide makes them model-dependent): the X report has no
    prepaid, credit or provision totals, rather than zeros it did not read; cash and card are still read."""
    driver.open_shift(idempotency_key="open")
    driver.print_receipt(receipt(500, Payment("electronic", 500)), idempotency_key="s1")
    read = driver.device.cash_register

    def one_byte_only(number: int) -> int:
        if number > 0xFF:
            raise refusal(0x33, 0x1A)
        return read(number)

    monkeypatch.setattr(driver.device, "cash_register", one_byte_only)
    assert driver.print_x_report().totals_by_payment == {"cash": 0, "electronic": 500}
