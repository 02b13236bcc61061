"""A correction receipt (FFD document type 31): a receipt that corrects a settlement, with its basis.

It carries full item lines and payments like a receipt (operation 1054 says which settlement is corrected), the
correction type (1173: 0 on the seller's own initiative, 1 by order of the tax service) and the basis (1174: the
date of the corrected settlement, 1178, and the order's number, 1179, required for an order). Common practice puts
the wrong receipt's fiscal sign in additional attribute 1192.

Its canonical form nests the receipt's under ``"receipt"``, so a stored correction can never be read back as a plain
receipt by mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Final, Literal

from kkt_adapter.domain.errors import FieldProblem, InvalidReceipt
from kkt_adapter.domain.ffd_codes import MAX_UINT32
from kkt_adapter.domain.receipt import Cashier, ItemInput, Operation, Payment, Receipt, build_receipt, canonical_hash

CorrectionType = Literal["self", "instruction"]

#: Tag 1173 by correction type.
CORRECTION_TYPE_CODES: Final[dict[str, int]] = {"self": 0, "instruction": 1}

#: The dates a basis may name (tag 1178).
FIRST_BASIS_DATE: Final = date(2017, 1, 1)
LAST_BASIS_DATE: Final = date(2100, 12, 31)


@dataclass(frozen=True)
class Correction:
    """A validated, balanced correction receipt: the corrected settlement as a receipt, and its basis."""

    receipt: Receipt
    correction_type: CorrectionType
    basis_date: date
    basis_number: str | None = None
    corrected_fiscal_sign: str | None = None

    @property
    def correction_type_code(self) -> int:
        """Tag 1173: 0 on the seller's own initiative, 1 by order of the tax service."""
        return CORRECTION_TYPE_CODES[self.correction_type]

    def canonical(self) -> dict[str, Any]:
        """A JSON-safe form in which equal corrections are equal; unset optional attributes do not appear."""
        data: dict[str, Any] = {
            "receipt": self.receipt.canonical(),
            "correction_type": self.correction_type,
            "basis_date": self.basis_date.isoformat(),
        }
        if self.basis_number is not None:
            data["basis_number"] = self.basis_number
        if self.corrected_fiscal_sign is not None:
            data["corrected_fiscal_sign"] = self.corrected_fiscal_sign
        return data

    def body_hash(self) -> str:
        """SHA-256 of the canonical form: the same key with another body is a conflict."""
        return self._body_hash

    @cached_property
    def _body_hash(self) -> str:
        return canonical_hash(self.canonical())

    @classmethod
    def from_canonical(cls, data: dict[str, Any]) -> Correction:
        """Rebuild a correction from :meth:`canonical` (as stored in the buffer)."""
        return cls(
            receipt=Receipt.from_canonical(data["receipt"]),
            correction_type=data["correction_type"],
            basis_date=date.fromisoformat(data["basis_date"]),
            basis_number=data.get("basis_number"),
            corrected_fiscal_sign=data.get("corrected_fiscal_sign"),
        )


def build_correction(
    *,
    pos_id: str,
    operation: Operation,
    items: list[ItemInput],
    payments: list[Payment],
    correction_type: CorrectionType,
    basis_date: date,
    basis_number: str | None = None,
    corrected_fiscal_sign: str | None = None,
    cashier: Cashier | None = None,
    taxation: int | None = None,
    as_sent: tuple[tuple[str, str], ...] = (),
) -> Correction:
    """Check the receipt's rules (as :func:`build_receipt`) and the basis, and build the correction, or raise
    :class:`InvalidReceipt` with every problem found."""
    problems: list[FieldProblem] = []
    if correction_type == "instruction" and basis_number is None:
        problems.append(
            FieldProblem(
                ("basis_number",),
                "basis_number (the tax service order's number, 1–64 characters) is required when correction_type "
                'is "instruction"',
            )
        )
    try:
        receipt = build_receipt(
            pos_id=pos_id,
            operation=operation,
            items=items,
            payments=payments,
            cashier=cashier,
            taxation=taxation,
            as_sent=as_sent,
            change_allowed=False,
        )
    except InvalidReceipt as exc:
        raise InvalidReceipt(problems + exc.problems) from exc
    if problems:
        raise InvalidReceipt(problems)
    return Correction(
        receipt=receipt,
        correction_type=correction_type,
        basis_date=basis_date,
        basis_number=basis_number,
        corrected_fiscal_sign=corrected_fiscal_sign,
    )


def parse_basis_date(value: object) -> date:
    """Tag 1178 from text written exactly as YYYY-MM-DD, within the dates a basis may name; else ``ValueError``."""
    message = "basis_date must be a date as YYYY-MM-DD, from 2017-01-01 to 2100-12-31"
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(f"{message}; got {value!r}")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{message}; {value!r} is not a date") from None
    if not FIRST_BASIS_DATE <= parsed <= LAST_BASIS_DATE:
        raise ValueError(f"{message}; got {value!r}")
    return parsed


def parse_fiscal_sign(value: str) -> str:
    """The corrected receipt's fiscal sign (for attribute 1192) as digits without leading zeros, from the printed
    form (1–10 digits, at most 32 bits, spaces around allowed); else ``ValueError``."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_UINT32):
        raise ValueError(f"corrected_fiscal_sign must be the fiscal sign as printed: 1–10 digits, at most {MAX_UINT32}")
    return str(int(text))
