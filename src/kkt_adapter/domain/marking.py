"""The marking code of marked goods (tag 2000) and the payment objects that go with it.

A marking code is the content of the DataMatrix on the goods, as the scanner reads it: printable ASCII, with GS1 group
separators (``\\x1d``) between its parts. Only the payment objects of marked goods *with* a code (31 excise, 33 other)
take one; 30 and 32 are marked goods without a code, so a code on such a line contradicts it, and a line of 31 or 33
without a code lacks what its payment object promises.
"""

from __future__ import annotations

import re
from typing import Final

from kkt_adapter.domain.errors import FieldProblem
from kkt_adapter.domain.ffd_codes import DEFAULT_PAYMENT_OBJECT

#: Tag 1212 for marked goods that carry a marking code (31 excise, 33 other); the default when a code is given.
MARKED_WITH_CODE: Final[frozenset[int]] = frozenset({31, 33})
DEFAULT_MARKED_PAYMENT_OBJECT: Final = 33

#: 1–256 printable ASCII characters without spaces, or the GS1 group separator.
_MARK_CODE = re.compile(r"[\x21-\x7e\x1d]+")


def parse_mark_code(value: str) -> str:
    """``value`` if it can be a marking code as read from the DataMatrix, else ``ValueError`` saying what can."""
    if not 1 <= len(value) <= 256 or not _MARK_CODE.fullmatch(value):
        raise ValueError(
            "mark_code must be the DataMatrix content as read: 1–256 printable ASCII characters without spaces, "
            "GS1 group separators (\\u001d) allowed"
        )
    return value


def default_payment_object(mark_code: str | None) -> int:
    """The payment object of a line that leaves it out: marked commodity (33) with a marking code, else 1."""
    return DEFAULT_PAYMENT_OBJECT if mark_code is None else DEFAULT_MARKED_PAYMENT_OBJECT


def marking_problems(index: int, mark_code: str | None, payment_object: int | None) -> list[FieldProblem]:
    """What is wrong with line ``index``'s marking code and payment object together (``None``: left out)."""
    problems: list[FieldProblem] = []
    if mark_code is not None and payment_object is not None and payment_object not in MARKED_WITH_CODE:
        problems.append(
            FieldProblem(
                ("items", index, "payment_object"),
                "a line with a mark_code must have payment_object 31 (marked_excise) or 33 (marked_commodity), "
                f"or leave it out (it is then {DEFAULT_MARKED_PAYMENT_OBJECT}); got {payment_object}",
            )
        )
    if mark_code is None and payment_object in MARKED_WITH_CODE:
        problems.append(
            FieldProblem(
                ("items", index, "mark_code"),
                f"payment_object {payment_object} is marked goods with a marking code: mark_code is required",
            )
        )
    return problems
