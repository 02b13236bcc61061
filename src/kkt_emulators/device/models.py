"""Value objects of the emulated KKT: the print task it takes, the fiscal document it returns, its registration.

Money is integer kopecks everywhere; quantities are :class:`~decimal.Decimal`. A :class:`FiscalDocument` carries
both convenient typed fields and the full FFD tag JSON (``tags``) that the fiscal sign covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

DOC_REGISTRATION = 1
DOC_SHIFT_OPENING = 2
DOC_RECEIPT = 3
DOC_SHIFT_CLOSING = 5


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


@dataclass(frozen=True)
class ReceiptTask:
    """What the adapter asks the device to print: an operation (1054), its items and how it was paid."""

    operation: int  # 1054: 1 sale, 2 sale refund, 3 expense, 4 expense refund
    items: tuple[TaskItem, ...]
    cash_kop: int = 0  # 1031
    electronic_kop: int = 0  # 1081
    prepaid_kop: int = 0  # 1215
    credit_kop: int = 0  # 1216
    provision_kop: int = 0  # 1217

    @property
    def total_kop(self) -> int:
        """The receipt's total (1020): the sum of the item sums."""
        return sum(item.sum_kop for item in self.items)

    @property
    def non_cash_kop(self) -> int:
        """Everything paid otherwise than in cash: electronic, prepaid, credit and counter-provision."""
        return self.electronic_kop + self.prepaid_kop + self.credit_kop + self.provision_kop


@dataclass(frozen=True)
class FiscalDocument:
    """A document the fiscal drive numbered and signed: registration, shift opening or closing, or a receipt."""

    fd_number: int  # 1040, continuous over the FN's life
    doc_type: int  # 1 registration, 2 shift opening, 3 receipt, 5 shift closing
    fiscal_sign: int  # 1077, uint32
    fiscal_datetime: datetime  # aware, device's timezone
    fn_number: str  # 1041
    kkt_reg_number: str  # 1037
    shift_number: int  # 1038
    receipt_number: int | None  # 1042, receipts only
    operation: int | None  # 1054, receipts only
    total_kop: int  # 1020, 0 for non-receipts
    qr: str | None  # FNS QR string, receipts only
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
    taxation: int = 1  # 1055 bitmask, 1 = OSN
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
