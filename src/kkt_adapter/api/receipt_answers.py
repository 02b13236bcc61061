"""What the API answers about receipts, for its OpenAPI description: a printed receipt, a stored one with its
delivery, the list and the events of the operator's page, and the refund check."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kkt_adapter.api.responses import MoneyText, OpenModel


class FiscalDocOut(OpenModel):
    """The fiscal data the device signed."""

    fiscal_doc_number: int = Field(description="FD number (tag 1040).")
    fiscal_sign: str = Field(description="Fiscal sign (tag 1077).")
    fiscal_datetime: str
    fn_number: str
    kkt_number: str
    qr_code_data: str = Field(description="The FNS QR string t=…&s=…&fn=…&i=…&fp=…&n=….")
    shift_number: int
    receipt_number: int


class PrintedFiscalDocOut(FiscalDocOut):
    total: float = Field(description="Rubles as a JSON number written exactly from kopecks (100.00).")


class TextWarningOut(OpenModel):
    """One character the text policy (KKT_TEXT_POLICY=normalize) replaced in one field."""

    code: Literal["text_replaced"]
    field: str = Field(description="The field's path in the request, e.g. items[0].name.")
    from_: str = Field(alias="from", description="The character as sent.")
    to: str = Field(description='What was printed instead ("" when it was removed).')
    code_point: str = Field(description="The character's code point, e.g. U+00AB.")
    count: int = Field(description="How many times it was replaced in the field.")


class ReceiptAnswerOut(OpenModel):
    """A printed receipt or correction (or the replay of its key: the identical bytes)."""

    status: Literal["printed"]
    receipt_id: str
    fiscal_doc: PrintedFiscalDocOut
    device: str = Field(description="The name of the device that printed it (KKT_DEVICES; main with one device).")
    change: float | None = Field(
        default=None,
        description="Cash to give back (rubles, a JSON number written exactly from kopecks): present only when the "
        "cash paid went over the total.",
    )
    warnings: list[TextWarningOut] | None = Field(
        default=None, description="Present only when the text policy replaced characters a fiscal drive cannot store."
    )


class StoredFiscalDocOut(FiscalDocOut):
    total: MoneyText


class SyncProgressOut(OpenModel):
    attempts: int
    next_attempt_at: float | None
    last_error: str | None
    ofd_id: str | None
    ofd_server_time: str | None
    hlc_server_ms: int | None
    synced_at: float | None


class TextAsSentOut(OpenModel):
    """A text field as the client sent it and as the fiscal drive printed it."""

    field: str
    as_sent: str
    printed: str
    warnings: list[TextWarningOut]


class ContentLineOut(OpenModel):
    name: str
    quantity: str
    measure: str | int = Field(description="The measure's name as the request takes it (piece, kg, l, ...).")
    price: str
    vat_rate: str | int
    sum: str
    payment_method: str | int
    payment_object: str | int
    mark_code: str | None


class ContentPaymentOut(OpenModel):
    type: str
    amount: str


class ContentCashierOut(OpenModel):
    name: str
    inn: str | None


class ReceiptContentOut(OpenModel):
    """A receipt's lines, payments, change (cash over the total), cashier, customer contact and taxation."""

    items: list[ContentLineOut]
    payments: list[ContentPaymentOut]
    change: str
    cashier: ContentCashierOut | None
    customer_contact: str | None
    taxation: str | int | None
    original_fd_number: int | None


class ReceiptViewOut(OpenModel):
    """One stored document: its state, totals, fiscal data and delivery."""

    receipt_id: str
    document_type: str = Field(
        description="receipt, correction, shift_opening, shift_closing, registration (or the FFD code)."
    )
    state: Literal["accepted", "pending", "synced", "print_failed", "dlq"]
    pos_id: str
    type: str = Field(description="sale or refund (the settlement corrected, for a correction).")
    total: MoneyText
    created_at: float
    fiscal_doc: StoredFiscalDocOut | None
    print_error: str | None
    original_receipt_id: str | None
    hlc: str | None
    sync: SyncProgressOut
    text_as_sent: list[TextAsSentOut] = Field(
        description="The texts the text policy normalized: each as sent and as printed (empty when none was)."
    )
    content: ReceiptContentOut | None = Field(
        default=None, description="What was sold and how it was paid; null for a document that sold nothing."
    )


class ReceiptRowOut(ReceiptViewOut):
    idempotency_key: str


class ReceiptListOut(OpenModel):
    items: list[ReceiptRowOut]
    count: int
    q: str | None
    device: str | None = None


class EventOut(OpenModel):
    id: int
    at: float
    kind: str
    receipt_id: str | None
    from_state: str | None
    to_state: str | None
    detail: str | None


class EventListOut(OpenModel):
    receipt_id: str
    items: list[EventOut]


class RefundCheckOut(OpenModel):
    """May the sale be refunded now: yes once it reached the OFD (200), else no with the reason (409)."""

    allowed: bool
    reason: str | None = None
    receipt_id: str
    sync_status: Literal["accepted", "pending", "synced", "print_failed", "dlq"]
    left_to_refund: MoneyText | None = Field(
        default=None,
        description="Rubles not yet refunded (the sale less the refunds that name it); allowed is false once it is "
        "0.00; null when the adapter holds no lines for the sale.",
    )
