"""The buyer's contact (tag 1008), where the OFD sends the electronic receipt: an e-mail address or a phone number.

An e-mail is checked by the shape of the HTML standard's "valid e-mail address", except that its domain must have at
least two labels; a phone is ``+`` and 11–15 digits, the international form. Either fits in the tag's
64 characters.
"""

from __future__ import annotations

import re
from typing import Final

#: The longest contact tag 1008 stores.
MAX_CONTACT_CHARS: Final = 64

_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_PHONE = re.compile(r"\+[0-9]{11,15}")


def parse_customer_contact(value: str) -> str:
    """``value`` if it is an e-mail or a phone in the international form, else ``ValueError`` showing both."""
    if len(value) > MAX_CONTACT_CHARS or not (_EMAIL.fullmatch(value) or _PHONE.fullmatch(value)):
        raise ValueError(
            "customer_contact must be an e-mail (buyer@example.ru) or a phone as + and 11–15 digits "
            "(+79161234567), at most 64 characters"
        )
    return value
