"""FFD 1.2 attributes (fiscal notes, "FFD 1.2 item and receipt attributes"): each is checked before anything is
numbered, and a receipt carries each optional tag only when it is given."""

from __future__ import annotations

import string
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kkt_emulators import fiscal
from kkt_emulators.device import EmulatedKKT, InvalidTask, ReceiptTask, TaskItem
from kkt_emulators.device.validation import (
    MEASURES,
    is_customer_contact,
    is_mark_code,
    validate_task,
)

from .helpers import KKTFactory

ITEM = TaskItem(name="Товар", price_kop=10_000, quantity=Decimal(1), sum_kop=10_000, vat_code=1)
TASK = ReceiptTask(operation=1, items=(ITEM,), cash_kop=10_000)
GS = "\x1d"
MARK = f"010460406000600021N4N57RSCBUZTQ{GS}2403004002910161218{GS}1724010191ffd0{GS}92tIAF/YVoU4roQS3M/m4z78yFq0fc"
VALID_PERSON_INN = "500100732259"  # a 12-digit individual's INN with valid check digits


def _item(**changes: Any) -> ReceiptTask:
    return replace(TASK, items=(replace(ITEM, **changes),))


INVALID: dict[str, ReceiptTask] = {
    "payment method 0 (1214)": _item(payment_method=0),
    "payment method 8 (1214)": _item(payment_method=8),
    "payment object 34 (1212)": _item(payment_object=34),
    "measure 13 (2108)": _item(measure=13),
    "measure as a bool (2108)": _item(measure=True),
    "empty marking code (2000)": _item(mark_code=""),
    "marking code of 257 characters": _item(mark_code="0" * 257),
    "marking code with a Cyrillic letter": _item(mark_code="01046040600060002Ж"),
    "marking code with a newline": _item(mark_code="0104604\n06000600"),
    "empty cashier (1021)": replace(TASK, cashier_name="  "),
    "cashier of 65 characters": replace(TASK, cashier_name="К" * 65),
    "cashier INN with a wrong check digit (1203)": replace(TASK, cashier_inn="500100732258"),
    "cashier INN of letters": replace(TASK, cashier_inn="abc"),
    "contact neither e-mail nor phone (1008)": replace(TASK, customer_contact="покупатель"),
    "phone without +7": replace(TASK, customer_contact="89161234567"),
    "phone of another country": replace(TASK, customer_contact="+19161234567"),
    "e-mail over 64 characters": replace(TASK, customer_contact="a" * 60 + "@x.ru"),
    "taxation not a system (1055)": replace(TASK, taxation=3),
    "taxation 8 (UTII, abolished)": replace(TASK, taxation=8),
    "taxation not registered": replace(TASK, taxation=2),
}


@pytest.mark.parametrize("task", INVALID.values(), ids=INVALID.keys())
def test_a_wrong_attribute_is_refused_with_nothing_printed(kkt: EmulatedKKT, task: ReceiptTask) -> None:
    """Each wrong FFD 1.2 attribute raises InvalidTask and uses no FD number."""
    with pytest.raises(InvalidTask) as caught:
        kkt.print_receipt(task, idempotency_key="k")
    assert caught.value.reason
    assert kkt.status().last_fd_number == 1


@pytest.mark.parametrize("method", range(1, 8))
def test_every_payment_method_is_accepted(method: int) -> None:
    """1214 takes 1 (full prepayment) to 7 (credit payment)."""
    validate_task(_item(payment_method=method))


@pytest.mark.parametrize("payment_object", [1, 2, 3, 4, 27, 30, 31, 32, 33])
def test_payment_objects_include_marked_goods(payment_object: int) -> None:
    """1212 takes 1..33, marked goods (30–33) included."""
    validate_task(_item(payment_object=payment_object))


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_every_measure_of_ffd_1_2_is_accepted(measure: int) -> None:
    """2108 takes the FFD 1.2 codes: 0 pieces, 10 gram, 11 kilogram, ... 255 other."""
    validate_task(_item(measure=measure))


def test_a_receipt_carries_each_optional_tag_only_when_given(kkt: EmulatedKKT) -> None:
    """Without attributes a receipt has no 1021, 1203, 1008 or 2000, and 1055 is the registration's."""
    doc = kkt.print_receipt(TASK, idempotency_key="plain")
    assert not {"1021", "1203", "1008"} & doc.tags.keys()
    assert "2000" not in doc.tags["1059"][0]
    assert doc.tags["1055"] == kkt.registration.taxation == 1


def test_given_attributes_are_in_the_receipt_and_signed(kkt: EmulatedKKT) -> None:
    """Cashier, cashier's INN, customer contact, taxation and the marking code go into the signed tags."""
    task = replace(
        _item(mark_code=MARK, payment_object=33, measure=0),
        cashier_name="Иванова А. А.",
        cashier_inn=VALID_PERSON_INN,
        customer_contact="buyer@example.ru",
        taxation=1,
    )
    doc = kkt.print_receipt(task, idempotency_key="k")
    tags = doc.tags
    assert (tags["1021"], tags["1203"], tags["1008"], tags["1055"]) == (
        "Иванова А. А.",
        VALID_PERSON_INN,
        "buyer@example.ru",
        1,
    )
    assert (tags["1059"][0]["2000"], tags["1059"][0]["1212"]) == (MARK, 33)
    assert fiscal.verify_fiscal_sign(tags, kkt.registration.fn_secret)


def test_a_registration_with_several_systems_takes_any_of_them(make_kkt: KKTFactory) -> None:
    """Registered with OSN and USN income (1 | 2), the device prints a receipt for either system."""
    kkt = make_kkt(taxation=1 | 2)
    assert kkt.registration.taxation == 3
    assert kkt.find_by_number(1).tags["1055"] == 3  # type: ignore[union-attr]
    assert kkt.print_receipt(replace(TASK, taxation=2), idempotency_key="usn").tags["1055"] == 2
    assert kkt.print_receipt(replace(TASK, taxation=1), idempotency_key="osn").tags["1055"] == 1
    with pytest.raises(InvalidTask, match="1055"):
        kkt.print_receipt(replace(TASK, taxation=4), idempotency_key="usn-ie")


def test_with_several_systems_registered_a_receipt_must_name_one(make_kkt: KKTFactory) -> None:
    """A receipt names exactly one system: with two registered the device cannot choose for the cashier."""
    kkt = make_kkt(taxation=1 | 32)
    with pytest.raises(InvalidTask, match="1055"):
        kkt.print_receipt(TASK, idempotency_key="k")


@pytest.mark.parametrize("taxation", [0, 8, 64, -1])
def test_a_registration_taxation_must_be_a_bitmask_of_known_systems(make_kkt: KKTFactory, taxation: int) -> None:
    """The registration's 1055 is a non-empty bitmask of 1, 2, 4, 16, 32."""
    with pytest.raises(ValueError, match="taxation"):
        make_kkt(taxation=taxation)


printable = st.text(alphabet=st.sampled_from([GS, *(chr(c) for c in range(0x20, 0x7F))]), min_size=1, max_size=256)


@settings(max_examples=200, deadline=None)
@given(code=printable)
def test_any_printable_ascii_marking_code_with_separators_is_well_formed(code: str) -> None:
    """Any 1..256 printable ASCII characters, GS included, are a well-formed marking code."""
    assert is_mark_code(code)
    validate_task(_item(mark_code=code))


@settings(max_examples=200, deadline=None)
@given(code=st.text(min_size=1, max_size=300))
def test_a_marking_code_is_well_formed_exactly_when_printable_ascii_of_at_most_256(code: str) -> None:
    """Any text is a marking code exactly when every character is printable ASCII or GS, and there are ≤ 256."""
    expected = len(code) <= 256 and all(c == GS or " " <= c <= "~" for c in code)
    assert is_mark_code(code) == expected


local = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=20)
domain = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=15)


@settings(max_examples=200, deadline=None)
@given(user=local, host=domain, zone=st.sampled_from(["ru", "com", "рф"]))
def test_e_mails_are_customer_contacts(user: str, host: str, zone: str) -> None:
    """An address ``user@host.zone`` is a contact (1008)."""
    assert is_customer_contact(f"{user}@{host}.{zone}")


@settings(max_examples=200, deadline=None)
@given(digits=st.text(alphabet=string.digits, min_size=0, max_size=14))
def test_a_phone_is_a_contact_only_as_plus_7_and_ten_digits(digits: str) -> None:
    """``+7`` followed by exactly ten digits is a contact; any other count of digits is not."""
    assert is_customer_contact(f"+7{digits}") == (len(digits) == 10)
