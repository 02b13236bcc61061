"""What is left to refund of a sale, and whether a refund fits in it: pure arithmetic on receipts.

A refund repeats the sold lines (FFD: "возврат прихода" with the lines' VAT rates). A refund line matches the sold
lines of the same name, unit price and VAT code (its *key*); duplicates on either side are summed by key. For each
key, the quantity and the money refunded, this refund and the earlier ones together, may not exceed what was sold.

Money is checked as well as quantity because line sums are rounded (price × quantity, half up to the kopeck, as
:func:`~kkt_adapter.domain.money.line_sum` does for every line): pieces of one line may round to more than the
whole. 1 kg at 10.01 sold for 10.01, refunded as 0.5 kg + 0.5 kg, would pay back 5.01 + 5.01 = 10.02. The second
half is refused with the money left (5.00); a split whose rounded sums stay within the sale (0.4 kg for 4.00 and
0.6 kg for 6.01) is accepted. The customer never gets back more than was paid for a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from kkt_adapter.domain.errors import FieldProblem
from kkt_adapter.domain.ffd_codes import VAT_RATE_CODES
from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.receipt import Item, Receipt

#: A sold line's identity: name, unit price in kopecks, VAT code (tag 1199).
RefundKey = tuple[str, int, int]

_VAT_RATE_BY_CODE = {code: rate for rate, code in VAT_RATE_CODES.items()}
#: How many sold names a "no such line" message lists.
_SHOWN = 5


def key_of(item: Item) -> RefundKey:
    """The key by which a refund line matches sold lines."""
    return (item.name, item.price_kop, item.vat_code)


def refundable(sale: Receipt, earlier_refunds: Sequence[Receipt]) -> dict[RefundKey, tuple[Decimal, int]]:
    """What is left to refund of ``sale`` after ``earlier_refunds``: (quantity, sum in kopecks) by key.

    A key refunded in full is kept with ``(0, 0)``; lines of earlier refunds that match nothing sold are ignored.
    """
    left: dict[RefundKey, tuple[Decimal, int]] = {}
    for item in sale.items:
        quantity, sum_kop = left.get(key_of(item), (Decimal(0), 0))
        left[key_of(item)] = (quantity + item.quantity, sum_kop + item.sum_kop)
    for refund in earlier_refunds:
        for item in refund.items:
            if key_of(item) in left:
                quantity, sum_kop = left[key_of(item)]
                left[key_of(item)] = (quantity - item.quantity, sum_kop - item.sum_kop)
    return left


def refund_problems(sale: Receipt, earlier_refunds: Sequence[Receipt], refund: Receipt) -> list[FieldProblem]:
    """Every line of ``refund`` that matches no sold line, or takes more than is left to refund of its key.

    A key over its limit is reported once, at the line where the refund's running total for it passes the limit.
    """
    left = refundable(sale, earlier_refunds)
    taken: dict[RefundKey, tuple[Decimal, int]] = {}
    reported: set[RefundKey] = set()
    problems: list[FieldProblem] = []
    for index, item in enumerate(refund.items):
        key = key_of(item)
        if key not in left:
            problems.append(_no_match(index, item, sale))
            continue
        before_quantity, before_sum = taken.get(key, (Decimal(0), 0))
        taken[key] = (before_quantity + item.quantity, before_sum + item.sum_kop)
        left_quantity, left_sum = left[key]
        if key not in reported and (taken[key][0] > left_quantity or taken[key][1] > left_sum):
            reported.add(key)
            problems.append(
                FieldProblem(
                    ("items", index, "quantity"),
                    _too_much(item, left_quantity - before_quantity, left_sum - before_sum),
                )
            )
    return problems


def _quantity(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f")


def _too_much(item: Item, left_quantity: Decimal, left_sum: int) -> str:
    what = f"{item.name!r} at {rubles(item.price_kop)} (VAT {_VAT_RATE_BY_CODE[item.vat_code]})"
    asked = f"this line refunds {_quantity(item.quantity)} for {rubles(item.sum_kop)}"
    if left_quantity <= 0 or left_sum <= 0:
        return f"nothing is left to refund of {what}; {asked}"
    return f"only {_quantity(left_quantity)} for {rubles(left_sum)} is left to refund of {what}; {asked}"


def _no_match(index: int, item: Item, sale: Receipt) -> FieldProblem:
    same_name = [sold for sold in sale.items if sold.name == item.name]
    if not same_name:
        names = sorted({repr(sold.name) for sold in sale.items})
        sold = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
        return FieldProblem(("items", index, "name"), f"the sale has no line named {item.name!r}; it sold {sold}")
    same_price = [sold for sold in same_name if sold.price_kop == item.price_kop]
    if not same_price:
        prices = ", ".join(sorted({str(rubles(sold.price_kop)) for sold in same_name}))
        return FieldProblem(
            ("items", index, "price"),
            f"{item.name!r} was sold at {prices}, not {rubles(item.price_kop)}: a refund repeats the sold price",
        )
    rates = ", ".join(sorted({_VAT_RATE_BY_CODE[sold.vat_code] for sold in same_price}))
    return FieldProblem(
        ("items", index, "vat_rate"),
        f"{item.name!r} at {rubles(item.price_kop)} was sold with vat_rate {rates}, "
        f"not {_VAT_RATE_BY_CODE[item.vat_code]}: a refund repeats the sold VAT rate",
    )
