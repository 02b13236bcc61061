"""The buyer's contact (tag 1008), where the OFD sends the electronic receipt: an e-mail address or a phone number,
taken as people type them and kept in one normal form.

A phone is read by libphonenumber's rules (``phonenumbers``), Russian by default: ``+7 (916) 123-45-67``,
``8 916 123-45-67``, ``89161234567`` and ``9161234567`` are all ``+79161234567`` (E.164); a number of another
country needs its ``+`` and country code. An e-mail is checked by ``email-validator`` (RFC 5321/5322 and 6531:
internationalized addresses such as ``покупатель@пример.рф`` included; no DNS query) and kept in its normal form
(the domain in lower case). The contact is what is printed and stored, so it must fit the tag's 64 characters of
CP866; an address outside CP866 takes its ASCII form (the domain as IDNA) when it has one.
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from kkt_adapter.domain.text import FISCAL_ENCODING

#: The longest contact tag 1008 stores.
MAX_CONTACT_CHARS: Final = 64
#: The region a phone without ``+`` and country code belongs to.
DEFAULT_REGION: Final = "RU"

REFUSAL: Final = (
    "customer_contact must be an e-mail (buyer@example.ru) or a phone number (+7 916 123-45-67, 8 916 123-45-67, "
    "+79161234567; another country's with + and its code), at most 64 characters"
)


def parse_customer_contact(value: str) -> str:
    """``value`` in its normal form (a phone as ``+79161234567``, an e-mail as the validator normalizes it), or
    ``ValueError`` saying what is allowed (and why, when the library says so)."""
    text = value.strip()
    contact = _email(text) if "@" in text else _phone(text)
    if len(contact) > MAX_CONTACT_CHARS:
        raise ValueError(REFUSAL)
    return contact


def _phone(text: str) -> str:
    if not text or any(char.isalpha() for char in text):
        raise ValueError(REFUSAL)  # libphonenumber reads letters as keypad digits (8-800-FLOWERS): not a buyer's
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(REFUSAL) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{REFUSAL}; {text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(text: str) -> str:
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{REFUSAL}; {exc}") from exc
    for form in (checked.normalized, checked.ascii_email):
        if form is not None and _fits_cp866(form):
            return form
    raise ValueError(f"{REFUSAL}; {text!r} has characters a fiscal drive cannot store (CP866)")


def _fits_cp866(text: str) -> bool:
    try:
        text.encode(FISCAL_ENCODING)
    except UnicodeEncodeError:
        return False
    return True
