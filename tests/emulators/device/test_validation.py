"""InvalidTask: the device refuses a task it cannot print, before numbering anything (fiscal notes, "Balances")."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kkt_emulators.device import EmulatedKKT, InvalidTask, ReceiptTask, TaskItem
from kkt_emulators.device.validation import validate_task

ITEM = TaskItem(name="Товар", price_kop=10_000, quantity=Decimal(1), sum_kop=10_000, vat_code=1)
TASK = ReceiptTask(operation=1, items=(ITEM,), cash_kop=10_000)


def _item(**changes: Any) -> ReceiptTask:
    return replace(TASK, items=(replace(ITEM, **changes),))


INVALID: dict[str, ReceiptTask] = {
    "no items": replace(TASK, items=()),
    "unknown operation": replace(TASK, operation=5),
    "empty name": _item(name=" "),
    "name over 128 characters": _item(name="x" * 129),
    "VAT code 0": _item(vat_code=0),
    "VAT code 13": _item(vat_code=13),
    "zero quantity": _item(quantity=Decimal(0)),
    "negative quantity": _item(quantity=Decimal("-1")),
    "four decimals in quantity": _item(quantity=Decimal("1.0005")),
    "float quantity": _item(quantity=1.5),
    "negative price": _item(price_kop=-1),
    "float item sum": _item(sum_kop=100.0),
    "unknown payment method": _item(payment_method=8),
    "unknown payment object": _item(payment_object=0),
    "unknown measure": _item(measure=1),
    "zero total": replace(_item(sum_kop=0), cash_kop=0),
    "underpaid": replace(TASK, cash_kop=9_999),
    "overpaid by card with cash": replace(TASK, cash_kop=500, electronic_kop=10_001),
    "non-cash over total": replace(TASK, cash_kop=0, electronic_kop=10_001),
    "negative payment": replace(TASK, cash_kop=10_100, electronic_kop=-100),
}


@pytest.mark.parametrize("task", INVALID.values(), ids=INVALID.keys())
def test_invalid_task_is_refused_with_nothing_printed(kkt: EmulatedKKT, task: ReceiptTask) -> None:
    """Each broken task raises InvalidTask (code "invalid_task", a reason) and leaves the FD counter untouched."""
    with pytest.raises(InvalidTask) as caught:
        kkt.print_receipt(task, idempotency_key="k")
    assert (caught.value.code, caught.value.printed) == ("invalid_task", False)
    assert caught.value.reason
    assert kkt.status().last_fd_number == 1
    assert kkt.find_by_key("k") is None


def test_name_of_exactly_128_characters_and_three_decimals_are_accepted(kkt: EmulatedKKT) -> None:
    """The limits themselves are allowed: a 128-character name (1030), a quantity with 3 decimals (1023)."""
    doc = kkt.print_receipt(_item(name="я" * 128, quantity=Decimal("0.125")), idempotency_key="k")
    assert doc.tags["1059"][0]["1023"] == "0.125"


@pytest.mark.parametrize(
    ("cash", "card", "tag_1031"),
    [(10_001, 0, 10_000), (500_000, 0, 10_000), (5_000, 6_000, 4_000), (10_000, 10_000, 0)],
)
def test_cash_over_the_total_is_change_and_not_a_fiscal_tag(
    kkt: EmulatedKKT, cash: int, card: int, tag_1031: int
) -> None:
    """Cash over the total is given back: the document's cash (1031) is the cash less the change, so the payment
    tags add up to the total (1020), as ATOL's devices record it (fiscal notes, "Balances")."""
    doc = kkt.print_receipt(replace(TASK, cash_kop=cash, electronic_kop=card), idempotency_key="k")
    assert (doc.tags["1020"], doc.tags["1031"], doc.tags["1081"]) == (10_000, tag_1031, card)


def test_empty_idempotency_key_is_refused(kkt: EmulatedKKT) -> None:
    """A print needs a key to be journaled under."""
    with pytest.raises(InvalidTask):
        kkt.print_receipt(TASK, idempotency_key="")


def _split(total: int, cuts: list[int]) -> tuple[int, int, int, int, int]:
    points = sorted(min(cut, total) for cut in cuts)
    bounds = [0, *points, total]
    parts = [b - a for a, b in itertools.pairwise(bounds)]
    return parts[0], parts[1], parts[2], parts[3], parts[4]


sums = st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=8)
cuts = st.lists(st.integers(min_value=0, max_value=80_000_000), min_size=4, max_size=4)


def _task(item_sums: list[int], payments: tuple[int, int, int, int, int]) -> ReceiptTask:
    items = tuple(replace(ITEM, price_kop=s, sum_kop=s) for s in item_sums)
    cash, electronic, prepaid, credit, provision = payments
    return ReceiptTask(1, items, cash, electronic, prepaid, credit, provision)


@settings(max_examples=200, deadline=None)
@given(item_sums=sums, cut_points=cuts)
def test_any_split_of_the_total_across_payments_balances(item_sums: list[int], cut_points: list[int]) -> None:
    """Whatever way the total is split across the five payment kinds, the task is valid."""
    validate_task(_task(item_sums, _split(sum(item_sums), cut_points)))


@settings(max_examples=200, deadline=None)
@given(
    item_sums=sums,
    cut_points=cuts,
    error=st.integers(min_value=-1_000, max_value=1_000).filter(bool),
    slot=st.integers(0, 4),
)
def test_payments_off_by_any_kopeck_are_refused(
    item_sums: list[int], cut_points: list[int], error: int, slot: int
) -> None:
    """Paying one kopeck or more too little, in any payment kind, is refused; too much only when the payments other
    than cash go over the total (otherwise the excess is change, given back from the cash)."""
    payments = list(_split(sum(item_sums), cut_points))
    payments[slot] += error
    task = _task(item_sums, (payments[0], payments[1], payments[2], payments[3], payments[4]))
    if error > 0 and sum(payments[1:]) <= sum(item_sums):
        validate_task(task)
        return
    with pytest.raises(InvalidTask):
        validate_task(task)
