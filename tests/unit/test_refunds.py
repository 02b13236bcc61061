"""Refund arithmetic: a refund repeats sold lines and never takes back more than is left of them."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from kkt_adapter.domain.ffd_codes import VAT_RATE_CODES
from kkt_adapter.domain.money import line_sum
from kkt_adapter.domain.receipt import ItemInput, Operation, Payment, Receipt, build_receipt
from kkt_adapter.domain.refunds import refund_problems, refundable

#: One requested line: name, unit price in kopecks, quantity, VAT rate.
Line = tuple[str, int, Decimal, str]


VAT_RATE_OF = {code: rate for rate, code in VAT_RATE_CODES.items()}


def receipt(operation: Operation, *lines: Line) -> Receipt:
    items = [ItemInput(name, price, quantity, vat) for name, price, quantity, vat in lines]
    total = sum(line_sum(price, quantity) for _, price, quantity, _ in lines)
    return build_receipt(pos_id="POS-1", operation=operation, items=items, payments=[Payment("cash", total)])


def sale(*lines: Line) -> Receipt:
    return receipt("sale", *lines)


def refund(*lines: Line) -> Receipt:
    return receipt("refund", *lines)


MILK: Line = ("Milk", 4500, Decimal(2), "20")
BREAD: Line = ("Bread", 5000, Decimal(1), "10")


def test_full_refund_fits() -> None:
    """A refund of every sold line is accepted."""
    assert refund_problems(sale(MILK, BREAD), [], refund(MILK, BREAD)) == []


def test_partial_refunds_add_up() -> None:
    """Two refunds of one milk each fit a sale of two; a third is refused, naming the quantity and what is left."""
    one_milk: Line = ("Milk", 4500, Decimal(1), "20")
    the_sale = sale(MILK, BREAD)
    first, second = refund(one_milk), refund(one_milk)
    assert refund_problems(the_sale, [], first) == []
    assert refund_problems(the_sale, [first], second) == []
    [problem] = refund_problems(the_sale, [first, second], refund(one_milk))
    assert problem.loc == ("items", 0, "quantity")
    assert "nothing is left to refund of 'Milk' at 45.00" in problem.message


def test_too_much_says_how_much_is_left() -> None:
    """A refund beyond the remainder names the line and says the quantity and money left."""
    earlier = refund(("Milk", 4500, Decimal("0.5"), "20"))
    [problem] = refund_problems(sale(MILK), [earlier], refund(MILK))
    assert problem.loc == ("items", 0, "quantity")
    assert "only 1.5 for 67.50 is left to refund of 'Milk' at 45.00 (VAT 20)" in problem.message


def test_duplicate_lines_are_summed() -> None:
    """Sold lines of one key are summed, and so are refund lines; the line crossing the limit is named, once."""
    one: Line = ("Milk", 4500, Decimal(1), "20")
    the_sale = sale(one, BREAD, one)
    assert refundable(the_sale, [])[("Milk", 4500, 1)] == (Decimal(2), 9000)
    assert refund_problems(the_sale, [], refund(MILK)) == []
    problems = refund_problems(the_sale, [], refund(one, BREAD, one, one, one))
    assert [p.loc for p in problems] == [("items", 3, "quantity")]


def test_unsold_name_is_named() -> None:
    """A refund line with a name the sale does not have names ``name`` and lists the sold names."""
    [problem] = refund_problems(sale(MILK, BREAD), [], refund(("Cheese", 4500, Decimal(1), "20")))
    assert problem.loc == ("items", 0, "name")
    assert "'Bread', 'Milk'" in problem.message


def test_other_price_is_named() -> None:
    """A sold name at another price names ``price`` and says the sold price."""
    [problem] = refund_problems(sale(MILK), [], refund(("Milk", 4000, Decimal(1), "20")))
    assert problem.loc == ("items", 0, "price")
    assert "sold at 45.00, not 40.00" in problem.message


def test_other_vat_is_named() -> None:
    """A sold name and price at another VAT rate names ``vat_rate`` and says the sold rate."""
    [problem] = refund_problems(sale(MILK), [], refund(("Milk", 4500, Decimal(1), "10")))
    assert problem.loc == ("items", 0, "vat_rate")
    assert "vat_rate 20, not 10" in problem.message


def test_rounded_pieces_may_not_pay_back_more_than_the_line() -> None:
    """1 kg at 10.01 is refunded as 0.4 + 0.6 kg (4.00 + 6.01), but not as 0.5 + 0.5 kg (5.01 + 5.01 = 10.02)."""
    the_sale = sale(("Cheese", 1001, Decimal(1), "20"))
    first_half = refund(("Cheese", 1001, Decimal("0.5"), "20"))
    [problem] = refund_problems(the_sale, [first_half], refund(("Cheese", 1001, Decimal("0.5"), "20")))
    assert "only 0.5 for 5.00 is left" in problem.message
    assert "this line refunds 0.5 for 5.01" in problem.message
    part = refund(("Cheese", 1001, Decimal("0.4"), "20"))
    assert refund_problems(the_sale, [part], refund(("Cheese", 1001, Decimal("0.6"), "20"))) == []


def test_lines_of_earlier_refunds_that_match_nothing_are_ignored() -> None:
    """What is left is computed from the sale's keys only."""
    assert refundable(sale(MILK), [refund(BREAD)]) == {("Milk", 4500, 1): (Decimal(2), 9000)}


# ---- properties -------------------------------------------------------------------------------------------------

NAMES = st.sampled_from(["Milk", "Bread", "Lens"])
VATS = st.sampled_from(["20", "10", "none"])


@st.composite
def exact_line(draw: st.DrawFn) -> tuple[Line, list[Decimal]]:
    """A sold line and a split of its quantity into parts whose line sums are exact, so they add up to the line's."""
    if draw(st.booleans()):  # whole units at any price
        price = draw(st.integers(min_value=1, max_value=10**6))
        units = draw(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=4))
        parts = [Decimal(u) for u in units]
    else:  # thousandths at a price in whole tens of rubles
        price = 1000 * draw(st.integers(min_value=1, max_value=1000))
        thousandths = draw(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=4))
        parts = [Decimal(t) / 1000 for t in thousandths]
    return (draw(NAMES), price, sum(parts, Decimal(0)), draw(VATS)), parts


@st.composite
def rounded_line(draw: st.DrawFn) -> tuple[Line, list[Decimal]]:
    """A sold line whose sum is rounded (any price, any quantity), refunded whole."""
    price = draw(st.integers(min_value=1, max_value=10**6))
    quantity = Decimal(draw(st.integers(min_value=1, max_value=10**5))) / 1000
    if line_sum(price, quantity) <= 0:  # a line of less than half a kopeck is refused; take one unit instead
        quantity = Decimal(1)
    return (draw(NAMES), price, quantity, draw(VATS)), [quantity]


@st.composite
def sale_and_refunds(draw: st.DrawFn) -> tuple[Receipt, list[Receipt]]:
    """A sale and refunds that together take back exactly everything sold, in quantity and in money."""
    lines = draw(st.lists(st.one_of(exact_line(), rounded_line()), min_size=1, max_size=4))
    count = draw(st.integers(min_value=1, max_value=4))
    refunds: list[list[Line]] = [[] for _ in range(count)]
    for (name, price, _, vat), parts in lines:
        for part in parts:
            refunds[draw(st.integers(min_value=0, max_value=count - 1))].append((name, price, part, vat))
    return sale(*(line for line, _ in lines)), [refund(*r) for r in refunds if r]


@given(data=sale_and_refunds(), order=st.randoms(use_true_random=False))
def test_any_split_is_accepted_in_any_order(data: tuple[Receipt, list[Receipt]], order: random.Random) -> None:
    """Refunds that together take back exactly the sale are each accepted, whatever their order, and leave nothing."""
    the_sale, refunds = data
    order.shuffle(refunds)
    for index, one in enumerate(refunds):
        assert refund_problems(the_sale, refunds[:index], one) == []
    assert all(left == (Decimal(0), 0) for left in refundable(the_sale, refunds).values())


@given(
    data=sale_and_refunds(),
    done=st.integers(min_value=0, max_value=4),
    extra=st.integers(min_value=1, max_value=5000),
)
def test_more_than_is_left_is_refused(data: tuple[Receipt, list[Receipt]], done: int, extra: int) -> None:
    """After some refunds, a refund of a key's remainder plus 0.001 or more is refused, naming its quantity."""
    the_sale, refunds = data
    earlier = refunds[:done]
    left = refundable(the_sale, earlier)
    (name, price, vat_code), (quantity, _) = next(iter(left.items()))
    too_much = quantity + Decimal(extra) / 1000
    assume(line_sum(price, too_much) > 0)  # a line of less than half a kopeck is no receipt at all
    problems = refund_problems(the_sale, earlier, refund((name, price, too_much, VAT_RATE_OF[vat_code])))
    assert [p.loc for p in problems] == [("items", 0, "quantity")]


@given(
    price=st.integers(min_value=1, max_value=10**5),
    sold=st.integers(min_value=1, max_value=5000),
    asked=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=8),
)
def test_rounding_is_consistent(price: int, sold: int, asked: list[int]) -> None:
    """A refund of any quantity is accepted exactly when its quantity and rounded sum, added to those accepted, fit."""
    quantity = Decimal(sold) / 1000
    if line_sum(price, quantity) <= 0:
        quantity = Decimal(1)
    the_sale = sale(("Gold", price, quantity, "20"))
    sold_sum = the_sale.total_kop
    accepted: list[Receipt] = []
    for thousandths in asked:
        part = Decimal(thousandths) / 1000
        if line_sum(price, part) <= 0:
            continue
        one = refund(("Gold", price, part, "20"))
        taken_quantity = sum((r.items[0].quantity for r in accepted), Decimal(0)) + part
        taken_sum = sum(r.total_kop for r in accepted) + one.total_kop
        fits = taken_quantity <= quantity and taken_sum <= sold_sum
        assert (refund_problems(the_sale, accepted, one) == []) == fits
        if fits:
            accepted.append(one)
    assert sum(r.total_kop for r in accepted) <= sold_sum
