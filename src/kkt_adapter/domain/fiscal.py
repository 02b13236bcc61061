"""What the KKT returns for a printed receipt, and the response shape the API promises."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from kkt_adapter.domain.money import rubles


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

    def response_json(self, receipt_id: str, device: str | None = None) -> str:
        """The exact 200 body for this receipt (with the name of the device that printed it, when given); ``total``
        is a JSON number written from kopecks, never a float."""
        body: dict[str, object] = {
            "status": "printed",
            "receipt_id": receipt_id,
            "fiscal_doc": self.response_fiscal_doc(),
        }
        if device:
            body["device"] = device
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return text.replace(json.dumps(_TOTAL_PLACEHOLDER), str(rubles(self.total_kop)), 1)


_TOTAL_PLACEHOLDER = "\x00total\x00"
