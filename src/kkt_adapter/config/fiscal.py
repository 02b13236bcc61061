"""The fiscal defaults' settings: the cashier named when a request names none (``KKT_CASHIER_NAME``,
``KKT_CASHIER_INN``) and the taxation system used when a receipt names none (``KKT_TAXATION``).

Each value is checked by the same domain rule as the request's field (``docs/configuration.md`` lists them); the
drivers receive them as one :class:`~kkt_adapter.domain.fiscal_defaults.FiscalDefaults`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator

from kkt_adapter.domain.inn import parse_inn
from kkt_adapter.domain.text import strict_text_problem

#: Tag 1021 holds at most 64 characters.
MAX_CASHIER_NAME = 64


def _cashier_name(value: object) -> object:
    """A blank name is "none": the driver sends no cashier and the KKT prints its own."""
    if not isinstance(value, str):
        return value
    name = value.strip()
    if not name:
        return None
    if len(name) > MAX_CASHIER_NAME:
        raise ValueError(f"at most {MAX_CASHIER_NAME} characters (tag 1021), got {len(name)}")
    # A setting is printed as written or refused: the text policy's replacements are for what tills send.
    if problem := strict_text_problem("KKT_CASHIER_NAME", name):
        raise ValueError(problem)
    return name


def _cashier_inn(value: object) -> object:
    if not isinstance(value, str):
        return value
    return parse_inn(value.strip()) if value.strip() else None


CashierName = Annotated[str | None, BeforeValidator(_cashier_name)]
CashierInn = Annotated[str | None, BeforeValidator(_cashier_inn)]
TaxationName = Literal["osn", "usn_income", "usn_income_expense", "esn", "patent"]
