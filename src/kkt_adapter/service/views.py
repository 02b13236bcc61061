"""How a stored receipt looks to a client, as plain data: ``GET /v1/kkt/receipt/{id}`` and the page's list."""

from __future__ import annotations

from typing import Any

from kkt_adapter.buffer import StoredReceipt
from kkt_adapter.domain.device import DOC_TYPE_NAMES
from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.states import ReceiptState
from kkt_adapter.domain.text import normalize_fiscal_text, text_warnings
from kkt_adapter.service.receipt_content import content


def receipt(stored: StoredReceipt) -> dict[str, Any]:
    """One receipt: state, fiscal data, print error, HLC and the delivery's progress."""
    return {
        "receipt_id": stored.receipt_id,
        "document_type": DOC_TYPE_NAMES.get(stored.doc_type, str(stored.doc_type)),
        "state": stored.state.value,
        "pos_id": stored.pos_id,
        "type": stored.operation,
        "total": str(rubles(stored.total_kop)),
        "created_at": stored.created_at,
        "fiscal_doc": stored.fiscal.response_fiscal_doc() | {"total": str(rubles(stored.fiscal.total_kop))}
        if stored.fiscal
        else None,
        "text_as_sent": _texts_as_sent(stored.request),
        "content": content(stored.request),
        "print_error": stored.print_error,
        "original_receipt_id": stored.original_receipt_id,
        "device": stored.device or None,
        "hlc": stored.hlc.encode() if stored.hlc else None,
        "sync": {
            "attempts": stored.attempts,
            "next_attempt_at": stored.next_attempt_at if stored.state is ReceiptState.PENDING else None,
            "last_error": stored.last_error,
            "ofd_id": stored.ofd_id,
            "ofd_server_time": stored.ofd_server_time,
            "hlc_server_ms": stored.hlc_server_ms,
            "synced_at": stored.synced_at,
        },
    }


def _texts_as_sent(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The texts the text policy normalized: each field's path, the text as sent and as printed, what was replaced."""
    as_sent: dict[str, str] = request.get("receipt", request).get("as_sent", {})
    return [
        {
            "field": field,
            "as_sent": text,
            "printed": normalize_fiscal_text(text).text.strip(),
            "warnings": text_warnings({field: text}),
        }
        for field, text in as_sent.items()
    ]


def listed(stored: StoredReceipt) -> dict[str, Any]:
    """A receipt in the page's list and search: the receipt's view and its idempotency key."""
    return receipt(stored) | {"idempotency_key": stored.idempotency_key}
