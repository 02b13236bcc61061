"""What the KKT returns for a printed receipt, and the response shape the API promises."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.text import text_warnings


@dataclass(frozen=True)
class FiscalResult:
    """The fiscal data of one printed receipt, and the signed FFD document to deliver to the OFD."""

    fiscal_doc_number: int
    fiscal_sign: str
    fiscal_datetime: str
    fn_number: str
    kkt_number: str
    qr_code_data: str
    shift_number: int
    receipt_number: int
    total_kop: int
    document: dict[str, Any]
    doc_type: int = 3

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (stored in the buffer); shallow, as ``document`` is only ever serialized."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FiscalResult:
        """Rebuild from :meth:`to_dict`."""
        return cls(**data)

    def response_fiscal_doc(self) -> dict[str, Any]:
        """The ``fiscal_doc`` object of the API's response; ``total`` is filled in by :meth:`response_json`."""
        return {
            "fiscal_doc_number": self.fiscal_doc_number,
            "fiscal_sign": self.fiscal_sign,
            "fiscal_datetime": self.fiscal_datetime,
            "fn_number": self.fn_number,
            "kkt_number": self.kkt_number,
            "qr_code_data": self.qr_code_data,
            "shift_number": self.shift_number,
            "receipt_number": self.receipt_number,
            "total": _TOTAL_PLACEHOLDER,
        }

    def response_json(
        self,
        receipt_id: str,
        device: str | None = None,
        *,
        change_kop: int = 0,
        warnings: Sequence[Mapping[str, object]] = (),
    ) -> str:
        """The exact 200 body for this receipt (with the name of the device that printed it, when given); ``total``
        and ``change`` (cash given back, only when there is some) are JSON numbers written from kopecks, never
        floats; ``warnings`` (only when there are some) say what was changed in the request's text."""
        body: dict[str, object] = {
            "status": "printed",
            "receipt_id": receipt_id,
            "fiscal_doc": self.response_fiscal_doc(),
        }
        if device:
            body["device"] = device
        if change_kop:
            body["change"] = _CHANGE_PLACEHOLDER
        if warnings:
            body["warnings"] = list(warnings)
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        text = text.replace(json.dumps(_TOTAL_PLACEHOLDER), str(rubles(self.total_kop)), 1)
        return text.replace(json.dumps(_CHANGE_PLACEHOLDER), str(rubles(change_kop)), 1)


def answer_notes(request: Mapping[str, Any]) -> dict[str, Any]:
    """What the answer says besides the fiscal data, from the stored request (its canonical form; a correction's
    nests its settlement under ``receipt``): ``change_kop``, the cash given back, and the ``warnings`` of its text."""
    settlement = request.get("receipt", request)
    items, payments = settlement.get("items", ()), settlement.get("payments", ())
    change = sum(p["amount_kop"] for p in payments) - sum(i["sum_kop"] for i in items) if items else 0
    return {"change_kop": max(0, change), "warnings": text_warnings(settlement.get("as_sent", {}))}


_TOTAL_PLACEHOLDER = "\x00total\x00"
_CHANGE_PLACEHOLDER = "\x00change\x00"
