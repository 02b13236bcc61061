"""The buyer's contact (tag 1008): a phone as people write it, normalized to E.164 (Russian by default), or an
e-mail checked by its RFCs (internationalized too), at most 64 characters."""

from __future__ import annotations

import re

import pytest

from kkt_adapter.domain.contact import REFUSAL, parse_customer_contact


@pytest.mark.parametrize(
    ("contact", "stored"),
    [
        ("+79161234567", "+79161234567"),
        ("+7 (916) 123-45-67", "+79161234567"),
        ("+7 916 123 45 67", "+79161234567"),
        ("8 916 123-45-67", "+79161234567"),
        ("8 (916) 123-45-67", "+79161234567"),
        ("89161234567", "+79161234567"),
        ("79161234567", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("916-123-45-67", "+79161234567"),
        ("8 (495) 123-45-67", "+74951234567"),
        (" +7 916 123-45-67 ", "+79161234567"),
        ("+375 29 123-45-67", "+375291234567"),
    ],
)
def test_a_phone_as_people_write_it_is_stored_as_e164(contact: str, stored: str) -> None:
    """Brackets, blanks, dashes, the trunk prefix 8 and a missing +7 are read by libphonenumber's rules."""
    assert parse_customer_contact(contact) == stored


@pytest.mark.parametrize(
    ("contact", "stored"),
    [
        ("buyer@example.ru", "buyer@example.ru"),
        ("a.b+c@mail.example.com", "a.b+c@mail.example.com"),
        ("Buyer@Example.RU", "Buyer@example.ru"),
        ("покупатель@пример.рф", "покупатель@пример.рф"),
        ("user@xn--e1afmkfd.xn--p1ai", "user@пример.рф"),
        ("x" * 58 + "@ex.ru", "x" * 58 + "@ex.ru"),
    ],
)
def test_an_email_is_stored_in_its_normal_form(contact: str, stored: str) -> None:
    """An address, internationalized ones included, is kept as the validator normalizes it (the domain lower case)."""
    assert parse_customer_contact(contact) == stored


def test_an_email_outside_cp866_takes_its_ascii_form() -> None:
    """A domain a fiscal drive cannot print is kept as IDNA, when the local part is ASCII."""
    assert parse_customer_contact("user@例子.广告") == "user@xn--fsqu00a.xn--4rr70v"


@pytest.mark.parametrize(
    "contact",
    [
        "",
        "buyer",
        "buyer@localhost",
        "buyer@-example.ru",
        "buyer @example.ru",
        "buyer@@example.ru",
        "+7916123456",
        "+" + "1" * 16,
        "12345",
        "8-800-FLOWERS",
        "x" * 59 + "@ex.ru",
        "用户@例子.广告",
        "müller@example.de",
    ],
)
def test_anything_else_is_refused(contact: str) -> None:
    """No valid address or number, letters in a phone, more than 64 characters, or an address a fiscal drive cannot
    store in any form, are refused, saying what is allowed."""
    with pytest.raises(ValueError, match=f"^{re.escape(REFUSAL)}"):
        parse_customer_contact(contact)
