"""The ATOL JSON-task mapping of requests, pure: the adapter's receipts and corrections as tasks, their amounts
written to the wire and read back as kopecks exactly; explicit tables, no I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kkt_adapter.devices.atol import results, tasks, wire
from kkt_adapter.devices.atol.errors import ProtocolError
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.receipt import Cashier, Item, Payment, Receipt

GS = "\x1d"
MARK = f"0104606203098187215Hk,U<T{GS}93dGVz"


def _receipt(**changes: Any) -> Receipt:
    values: dict[str, Any] = {
        "pos_id": "till-1",
        "operation": "sale",
        "items": (
            Item("Оправа", 10_000, Decimal(2), 20_000, 1),
            Item(
                "Сыр",
                45_050,
                Decimal("0.5"),
                22_525,
                11,
                payment_method=1,
                payment_object=33,
                measure=11,
                mark_code=MARK,
            ),
        ),
        "payments": (Payment("cash", 10_000), Payment("card", 32_525)),
        "cashier": Cashier("Иванов И.И.", "500100732259"),
        "customer_contact": "+79990000000",
        "taxation": 2,
    }
    return Receipt(**(values | changes))


def test_a_sale_becomes_a_sell_task_with_every_ffd12_attribute() -> None:
    """A sale maps to ``sell`` with taxation, cashier (operator), customer (clientInfo), lines with their codes by
    ATOL's names, the marking code as imcParams, payments by kind, and exact ruble amounts."""
    task = tasks.receipt_task(_receipt())
    assert task == {
        "type": "sell",
        "taxationType": "usnIncome",
        "electronically": False,
        "operator": {"name": "Иванов И.И.", "vatin": "500100732259"},
        "clientInfo": {"emailOrPhone": "+79990000000"},
        "items": [
            {
                "type": "position",
                "name": "Оправа",
                "price": Decimal("100.00"),
                "quantity": Decimal(2),
                "amount": Decimal("200.00"),
                "measurementUnit": "piece",
                "paymentMethod": "fullPayment",
                "paymentObject": "commodity",
                "tax": {"type": "vat20"},
            },
            {
                "type": "position",
                "name": "Сыр",
                "price": Decimal("450.50"),
                "quantity": Decimal("0.5"),
                "amount": Decimal("225.25"),
                "measurementUnit": "kilogram",
                "paymentMethod": "fullPrepayment",
                "paymentObject": "commodityWithMarking",
                "tax": {"type": "vat22"},
                "imcParams": {
                    "imcType": "auto",
                    "imc": "MDEwNDYwNjIwMzA5ODE4NzIxNUhrLFU8VB05M2RHVno=",
                    "itemEstimatedStatus": "itemPieceSold",
                    "imcModeProcessing": 0,
                },
            },
        ],
        "payments": [{"type": "cash", "sum": Decimal("100.00")}, {"type": "electronically", "sum": Decimal("325.25")}],
        "total": Decimal("425.25"),
    }


def test_amounts_are_written_to_the_wire_digit_for_digit() -> None:
    """The serialized task carries ``200.00`` and ``0.5`` as JSON numbers, never a float's rounding."""
    text = wire.dumps(tasks.receipt_task(_receipt()))
    assert '"amount":200.00' in text
    assert '"quantity":0.5' in text
    assert '"total":425.25' in text
    assert wire.loads(text)["total"] == Decimal("425.25")


def test_the_wire_refuses_a_binary_float() -> None:
    """A float never reaches the KKT: serializing one is an error."""
    with pytest.raises(TypeError, match="float"):
        wire.dumps({"sum": 0.1})


def test_a_refund_becomes_sell_return_and_its_marked_line_a_returned_piece() -> None:
    """A refund is ``sellReturn``; its marked line says itemPieceReturn; a receipt without options has none."""
    task = tasks.receipt_task(_receipt(operation="refund", cashier=None, customer_contact=None, taxation=None))
    assert task["type"] == "sellReturn"
    assert task["items"][1]["imcParams"]["itemEstimatedStatus"] == "itemPieceReturn"
    assert {"operator", "clientInfo", "taxationType"}.isdisjoint(task)


@pytest.mark.parametrize(
    ("vat_code", "name"),
    [
        (1, "vat20"),
        (2, "vat10"),
        (3, "vat120"),
        (4, "vat110"),
        (5, "vat0"),
        (6, "none"),
        (7, "vat5"),
        (8, "vat7"),
        (9, "vat105"),
        (10, "vat107"),
        (11, "vat22"),
        (12, "vat122"),
    ],
)
def test_each_vat_code_has_its_atol_tax_type(vat_code: int, name: str) -> None:
    """Tag 1199 codes map to ATOL's tax types, the 22% rates and calculated rates included."""
    item = Item("x", 100, Decimal(1), 100, vat_code)
    assert tasks.position(item, refund=False)["tax"] == {"type": name}


@pytest.mark.parametrize(
    ("kind", "atol"),
    [
        ("cash", "cash"),
        ("card", "electronically"),
        ("electronic", "electronically"),
        ("prepaid", "prepaid"),
        ("credit", "credit"),
        ("provision", "other"),
    ],
)
def test_each_payment_kind_has_its_atol_payment_type(kind: Any, atol: str) -> None:
    """Payment kinds map to ATOL's payment types (a counter-provision, tag 1217, is ATOL's ``other``)."""
    task = tasks.receipt_task(_receipt(items=(Item("x", 100, Decimal(1), 100, 1),), payments=(Payment(kind, 100),)))
    assert task["payments"] == [{"type": atol, "sum": Decimal("1.00")}]


def test_a_correction_becomes_sell_correction_with_its_basis() -> None:
    """A correction by order maps to ``sellCorrection`` with its type, basis date and number, and 1192."""
    correction = Correction(_receipt(), "instruction", date(2024, 5, 31), "ФНС-77/1", "1494325660")
    task = tasks.correction_task(correction)
    assert task["type"] == "sellCorrection"
    assert task["correctionType"] == "instruction"
    assert task["correctionBaseDate"] == "2024.05.31"
    assert task["correctionBaseNumber"] == "ФНС-77/1"
    assert task["additionalAttribute"] == "1494325660"
    assert task["total"] == Decimal("425.25")
    refund = tasks.correction_task(Correction(_receipt(operation="refund"), "self", date(2024, 5, 31)))
    assert refund["type"] == "sellReturnCorrection"
    assert "correctionBaseNumber" not in refund


@pytest.mark.parametrize(
    ("wire_value", "kop"),
    [(Decimal("390.75"), 39_075), (100, 10_000), (Decimal("0.1"), 10), ("12.30", 1_230), (Decimal(0), 0)],
)
def test_rubles_become_kopecks_exactly(wire_value: Any, kop: int) -> None:
    """Amounts read from ATOL (Decimal, int, text) convert to kopecks exactly."""
    assert results.kopecks(wire_value) == kop


@pytest.mark.parametrize("wire_value", [Decimal("1.005"), True, None, "abc", [1]])
def test_an_amount_that_is_not_whole_kopecks_is_refused(wire_value: Any) -> None:
    """More than two decimals, or not a number, is a protocol error: never rounded."""
    with pytest.raises(ProtocolError):
        results.kopecks(wire_value)
