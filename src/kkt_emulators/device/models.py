"""Value objects of the emulated KKT: the tasks it takes (receipt, correction), the fiscal document it returns, its
registration, and the reports it reads (device status, shift counters, the FN's state).

Money is integer kopecks everywhere; quantities are :class:`~decimal.Decimal`. A :class:`FiscalDocument` carries
both convenient typed fields and the full FFD tag JSON (``tags``) that the fiscal sign covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

DOC_REGISTRATION = 1
DOC_SHIFT_OPENING = 2
DOC_RECEIPT = 3
DOC_SHIFT_CLOSING = 5
DOC_CORRECTION = 31


@dataclass(frozen=True)
class TaskItem:
    """One line of a receipt task (tag 1059 entry): name, price, quantity, item sum, VAT rate code."""

    name: str  # 1030, 1..128 characters
    price_kop: int  # 1079
    quantity: Decimal  # 1023, > 0, at most 3 decimals
    sum_kop: int  # 1043, computed by the caller (discounts allowed)
    vat_code: int  # 1199, 1..12
    payment_object: int = 1  # 1212, 1 = goods
    payment_method: int = 4  # 1214, 4 = full settlement
    measure: int = 0  # 2108, 0 = pieces
    mark_code: str | None = None  # 2000, marked goods: the code's content (printable ASCII and GS), 1..256


@dataclass(frozen=True)
class ReceiptTask:
    """What the adapter asks the device to print: an operation (1054), its items and how it was paid."""

    operation: int  # 1054: 1 sale, 2 sale refund, 3 expense, 4 expense refund
    items: tuple[TaskItem, ...]
    cash_kop: int = 0  # cash tendered; tag 1031 takes it less the change
    electronic_kop: int = 0  # 1081
    prepaid_kop: int = 0  # 1215
    credit_kop: int = 0  # 1216
    provision_kop: int = 0  # 1217
    cashier_name: str | None = None  # 1021, up to 64 characters
    cashier_inn: str | None = None  # 1203, a valid INN
    customer_contact: str | None = None  # 1008, an e-mail or a +7 phone, up to 64 characters
    taxation: int | None = None  # 1055, one system registered; None: the registration's (if it names one)

    @property
    def total_kop(self) -> int:
        """The receipt's total (1020): the sum of the item sums."""
        return sum(item.sum_kop for item in self.items)

    @property
    def non_cash_kop(self) -> int:
        """Everything paid otherwise than in cash: electronic, prepaid, credit and counter-provision."""
        return self.electronic_kop + self.prepaid_kop + self.credit_kop + self.provision_kop

    @property
    def change_kop(self) -> int:
        """Cash given back: what was paid over the total (only cash may exceed it; validation checks that)."""
        return max(0, self.cash_kop + self.non_cash_kop - self.total_kop)


@dataclass(frozen=True, kw_only=True)
class CorrectionTask(ReceiptTask):
    """A correction receipt's task (document type 31): a receipt's fields, plus what is corrected and on what basis.

    Keyword-only. ``operation`` (1054) names the settlement corrected (1 sale, 2 sale refund, 3, 4 as receipts).
    """

    correction_type: int  # 1173: 0 on the seller's own initiative, 1 by order of the tax service
    basis_date: date  # 1178, the date of the corrected settlement
    basis_number: str | None = None  # 1179, the order's number: required when correction_type == 1
    corrected_fiscal_sign: str | None = None  # 1192, the wrong receipt's fiscal sign (decimal)


@dataclass(frozen=True)
class FiscalDocument:
    """A document the fiscal drive numbered and signed: registration, shift report, receipt or correction."""

    fd_number: int  # 1040, continuous over the FN's life
    doc_type: int  # 1 registration, 2 shift opening, 3 receipt, 31 correction, 5 shift closing
    fiscal_sign: int  # 1077, uint32
    fiscal_datetime: datetime  # aware, device's timezone
    fn_number: str  # 1041
    kkt_reg_number: str  # 1037
    shift_number: int  # 1038
    receipt_number: int | None  # 1042, receipts and corrections only
    operation: int | None  # 1054, receipts and corrections only
    total_kop: int  # 1020, 0 for reports
    qr: str | None  # FNS QR string, receipts and corrections only
    idempotency_key: str | None
    tags: dict[str, Any]  # full FFD tag JSON including "1077"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` reads it back to an equal document."""
        return {
            "fd_number": self.fd_number,
            "doc_type": self.doc_type,
            "fiscal_sign": self.fiscal_sign,
            "fiscal_datetime": self.fiscal_datetime.isoformat(),
            "fn_number": self.fn_number,
            "kkt_reg_number": self.kkt_reg_number,
            "shift_number": self.shift_number,
            "receipt_number": self.receipt_number,
            "operation": self.operation,
            "total_kop": self.total_kop,
            "qr": self.qr,
            "idempotency_key": self.idempotency_key,
            "tags": self.tags,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FiscalDocument:
        """Rebuild a document from :meth:`to_dict`'s output."""
        return cls(
            fd_number=int(d["fd_number"]),
            doc_type=int(d["doc_type"]),
            fiscal_sign=int(d["fiscal_sign"]),
            fiscal_datetime=datetime.fromisoformat(d["fiscal_datetime"]),
            fn_number=str(d["fn_number"]),
            kkt_reg_number=str(d["kkt_reg_number"]),
            shift_number=int(d["shift_number"]),
            receipt_number=None if d.get("receipt_number") is None else int(d["receipt_number"]),
            operation=None if d.get("operation") is None else int(d["operation"]),
            total_kop=int(d["total_kop"]),
            qr=d.get("qr"),
            idempotency_key=d.get("idempotency_key"),
            tags=dict(d["tags"]),
        )


@dataclass(frozen=True)
class Registration:
    """The KKT's registration with the tax service and the fiscal drive installed in it."""

    inn: str  # 1018
    org_name: str  # 1048
    kkt_serial: str  # 1013
    reg_number: str  # 1037
    fn_number: str  # 1041
    ffd_version: str = "1.2"
    taxation: int = (
        1  # 1055 bitmask of the systems registered: 1 OSN, 2 USN income, 4 USN inc.-exp., 16 ESHN, 32 patent
    )
    address: str = "г. Москва, ул. Тверская, д. 1"  # 1009
    fn_secret: bytes = field(kw_only=True, repr=False)  # the FN's signing key: never shown


@dataclass(frozen=True)
class DeviceStatus:
    """A snapshot of the device: faults, shift state and counters."""

    online: bool
    paper: bool
    shift_open: bool
    shift_number: int
    receipts_in_shift: int
    shift_opened_at: datetime | None
    shift_expired: bool
    last_fd_number: int
    fn_number: str
    reg_number: str
    shift_expires_at: datetime | None = None  # the open shift's 24-hour limit; None with no open shift


#: The payment kinds of :attr:`ShiftReport.totals_by_payment`, in the receipt's tag order (1031, 1081, 1215–1217).
PAYMENT_KINDS = ("cash", "electronic", "prepaid", "credit", "provision")


@dataclass(frozen=True)
class ShiftReport:
    """A shift's counters, as the X report (open shift) or after the Z report (closed shift): no fiscal document.

    ``receipts`` counts receipts and corrections; ``documents`` every fiscal document of the shift (its opening and
    closing included). ``totals_by_operation`` and ``count_by_operation`` are keyed by 1054 (1–4, all present);
    ``totals_by_payment`` by :data:`PAYMENT_KINDS`, each the net money of the shift: received in sales (1) and
    expense refunds (4), minus given back in sale refunds (2) and expenses (3), so ``cash`` is what the drawer gained.
    """

    shift_number: int
    shift_open: bool
    opened_at: datetime | None
    expires_at: datetime | None  # opened_at + 24 h while open; None once closed
    expired: bool
    receipts: int
    documents: int
    totals_by_operation: dict[int, int]
    totals_by_payment: dict[str, int]
    count_by_operation: dict[int, int]
    #: Each operation's money by payment kind (as received or given, not net), keyed by 1054 then PAYMENT_KINDS.
    payments_by_operation: dict[int, dict[str, int]] = field(default_factory=dict)


#: The FN's warnings in :attr:`FNStatus.warnings`, with the Z report's flag tag each one sets.
FN_WARNING_FLAGS = {
    "resource_exhausted": "1050",
    "replace_soon": "1051",
    "memory_nearly_full": "1052",
    "ofd_timeout": "1053",
}


@dataclass(frozen=True)
class FNStatus:
    """The fiscal drive's life and its exchange with the OFD (ATOL's ``ofdExchangeStatus`` and FN status).

    ``documents_count``: documents in the archive (the last FD number). ``warnings``: a subset of
    :data:`FN_WARNING_FLAGS`' keys, in that order. ``blocked``: the code of the error the FN refuses a new receipt
    with now (``fn_expired``, ``fn_archive_full``, ``fn_ofd_timeout_30_days``), or None when it prints.
    """

    fn_number: str
    validity_date: date
    ffd_version: str
    documents_count: int
    unsent_count: int
    first_unsent_fd_number: int | None
    first_unsent_at: datetime | None
    warnings: tuple[str, ...]
    blocked: str | None
