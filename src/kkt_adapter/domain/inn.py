"""The INN, the Russian taxpayer number (the cashier's is tag 1203): 10 digits for an organisation, 12 for a person.

Its last one or two digits are check digits; python-stdnum's ``stdnum.ru.inn`` computes them, so a mistyped digit is
refused before the fiscal drive refuses the receipt. Spaces are dropped, as stdnum drops them.
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn


def parse_inn(value: str) -> str:
    """The INN's digits, or ``ValueError`` naming the rule and what stdnum found wrong (format, length, check)."""
    try:
        return str(ru_inn.validate(value))
    except StdnumError as exc:
        raise ValueError(
            f"inn must be a valid INN: 10 digits (organisation) or 12 (individual) with correct check digits; {exc}"
        ) from exc
