"""The buyer's contact (tag 1008): an e-mail or a phone in the international form, at most 64 characters."""

from __future__ import annotations

import re

import pytest

from kkt_adapter.domain.contact import parse_customer_contact

REFUSAL = (
    "customer_contact must be an e-mail (buyer@example.ru) or a phone as + and 11–15 digits "
    "(+79161234567), at most 64 characters"
)


@pytest.mark.parametrize(
    "contact",
    ["buyer@example.ru", "a.b+c@mail.example.com", "+79161234567", "+" + "1" * 15, "x" * 58 + "@ex.ru"],
)
def test_an_email_or_a_phone_is_a_contact(contact: str) -> None:
    """An e-mail with a dotted domain, or + and 11–15 digits, is taken as given."""
    assert parse_customer_contact(contact) == contact


@pytest.mark.parametrize(
    "contact",
    [
        "",
        "buyer",
        "buyer@localhost",
        "buyer@-example.ru",
        "buyer @example.ru",
        "79161234567",
        "+7916123456",
        "+" + "1" * 16,
        "+7 916 123 45 67",
        "x" * 59 + "@ex.ru",
    ],
)
def test_anything_else_is_refused(contact: str) -> None:
    """No @, a one-label or hyphen-led domain, spaces, a phone without + or of the wrong length, or more than 64
    characters are refused, showing both forms."""
    with pytest.raises(ValueError, match=re.escape(REFUSAL)) as caught:
        parse_customer_contact(contact)
    assert str(caught.value) == REFUSAL
