"""Request bodies of the API, exactly as the field's documents write them; amounts are ``Decimal`` rubles.

Each model checks its fields one by one, with the field types of ``kkt_adapter.api.fields`` (a wrong field is a 422
naming it and what is allowed); rules across fields (balanced sums, a marking code's payment object, a refund's link
to its sale, a correction's basis) are the domain's, checked by ``to_receipt`` / ``to_correction``, which raise
``InvalidReceipt`` naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, PrivateAttr, model_validator

from kkt_adapter.api.fields import (
    CORRECTION_TEXTS,
    RECEIPT_TEXTS,
    BasisDate,
    CustomerContact,
    DeviceName,
    FdNumber,
    FiscalSign,
    IdempotencyKey,
    Inn,
    MarkCode,
    Measure,
    Money,
    Name,
    PaymentMethod,
    PaymentObject,
    Quantity,
    Taxation,
    Text64,
    VatRate,
    texts_as_sent,
)
from kkt_adapter.domain.correction import Correction, CorrectionType, build_correction
from kkt_adapter.domain.ffd_codes import DEFAULT_MEASURE, DEFAULT_PAYMENT_METHOD
from kkt_adapter.domain.money import to_kopecks
from kkt_adapter.domain.receipt import Cashier, ItemInput, Payment, Receipt, build_receipt


class ItemIn(BaseModel):
    """One item line: unit price and optional line total in rubles, quantity, VAT rate (percent or fraction), and
    optional FFD 1.2 codes (payment method, payment object, measure) and marking code."""

    model_config = ConfigDict(extra="forbid", strict=False)

    name: Name
    price: Money
    quantity: Quantity
    vat_rate: VatRate
    total: Money | None = None
    payment_method: PaymentMethod | None = None
    payment_object: PaymentObject | None = None
    measure: Measure | None = None
    mark_code: MarkCode | None = None

    def to_input(self) -> ItemInput:
        """The line in kopecks and codes, defaults filled in by the domain."""
        return ItemInput(
            name=self.name,
            price_kop=to_kopecks(self.price),
            quantity=self.quantity,
            vat_rate=self.vat_rate,
            total_kop=None if self.total is None else to_kopecks(self.total),
            payment_method=DEFAULT_PAYMENT_METHOD if self.payment_method is None else self.payment_method,
            payment_object=self.payment_object,
            measure=DEFAULT_MEASURE if self.measure is None else self.measure,
            mark_code=self.mark_code,
        )


class PaymentIn(BaseModel):
    """One payment: ``cash``, ``card`` (= ``electronic``), ``prepaid``, ``credit`` or ``provision``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["cash", "card", "electronic", "prepaid", "credit", "provision"]
    amount: Money

    def to_payment(self) -> Payment:
        """The payment in kopecks."""
        return Payment(kind=self.type, amount_kop=to_kopecks(self.amount))


class CashierIn(BaseModel):
    """The cashier: name (tag 1021, 1–64 characters) and optional INN (tag 1203, check digits verified)."""

    model_config = ConfigDict(extra="forbid")

    name: Text64
    inn: Inn | None = None

    def to_cashier(self) -> Cashier:
        """The domain's cashier."""
        return Cashier(name=self.name, inn=self.inn)


class ShiftIn(BaseModel):
    """The optional body of the shift routes: the cashier who opens or closes the shift (tag 1021, which FFD 1.2
    puts on the shift reports); without it, the configured cashier (``KKT_CASHIER_NAME``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"cashier": {"name": "Иванова А."}}]})

    cashier: CashierIn | None = None

    def to_cashier(self) -> Cashier | None:
        """The domain's cashier, if the body names one."""
        return None if self.cashier is None else self.cashier.to_cashier()


_SALE_EXAMPLE: dict[str, Any] = {
    "pos_id": "POS-001",
    "type": "sale",
    "items": [{"name": "Test Product", "price": 100, "quantity": 1, "vat_rate": 20}],
    "payments": [{"type": "cash", "amount": 100}],
}


class ReceiptIn(BaseModel):
    """A sale or a refund of a sale; a refund may name its sale by ``original_receipt_id`` or ``original_fd_number``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                _SALE_EXAMPLE,
                {
                    "pos_id": "POS-001",
                    "type": "refund",
                    "original_fd_number": 3,
                    "cashier": {"name": "Иванова А.", "inn": "500100732259"},
                    "customer_contact": "+79161234567",
                    "taxation": "usn_income",
                    "items": [
                        {
                            "name": "Test Product",
                            "price": 100,
                            "quantity": 1,
                            "vat_rate": 20,
                            "payment_method": "full_payment",
                            "payment_object": "commodity",
                            "measure": "piece",
                        }
                    ],
                    "payments": [{"type": "cash", "amount": 100}],
                },
            ]
        },
    )

    pos_id: Text64
    type: Literal["sale", "refund"]
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=1000)]
    payments: Annotated[list[PaymentIn], Field(min_length=1, max_length=16)]
    cashier: CashierIn | None = None
    customer_contact: CustomerContact | None = None
    taxation: Taxation | None = None
    original_receipt_id: Text64 | None = Field(
        default=None, description='The refunded sale\'s receipt_id; only with type "refund".'
    )
    original_fd_number: FdNumber | None = Field(
        default=None, description='The refunded sale\'s fiscal document number; only with type "refund".'
    )
    idempotency_key: IdempotencyKey | None = None
    device: DeviceName | None = None

    _as_sent: tuple[tuple[str, str], ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _keep_texts_as_sent(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        model = handler(data)
        model._as_sent = texts_as_sent(data, RECEIPT_TEXTS)
        return model

    @property
    def as_sent(self) -> tuple[tuple[str, str], ...]:
        """The texts normalized for the fiscal drive, by path, as sent."""
        return self._as_sent

    def to_receipt(self) -> Receipt:
        """The domain receipt in kopecks; raises ``InvalidReceipt`` when a rule across fields is broken.

        ``idempotency_key`` is not part of the receipt (nor of its hash): it names the request, not the sale.
        """
        return build_receipt(
            pos_id=self.pos_id,
            operation=self.type,
            items=[item.to_input() for item in self.items],
            payments=[p.to_payment() for p in self.payments],
            cashier=None if self.cashier is None else self.cashier.to_cashier(),
            customer_contact=self.customer_contact,
            taxation=self.taxation,
            original_receipt_id=self.original_receipt_id,
            original_fd_number=self.original_fd_number,
            as_sent=self._as_sent,
        )


class CorrectionIn(BaseModel):
    """A correction receipt (FFD document type 31): the corrected settlement's lines and payments, and the basis."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    **_SALE_EXAMPLE,
                    "correction_type": "instruction",
                    "basis_date": "2025-11-30",
                    "basis_number": "ЕД-7-20/123",
                    "corrected_fiscal_sign": "2981623349",
                }
            ]
        },
    )

    pos_id: Text64
    type: Literal["sale", "refund"] = Field(description="The corrected settlement (tag 1054).")
    correction_type: CorrectionType = Field(
        description="Tag 1173: self (0, the seller's own initiative) or instruction (1, by order of the tax service)."
    )
    basis_date: BasisDate = Field(description="Tag 1178: the date of the corrected settlement, YYYY-MM-DD.")
    basis_number: Text64 | None = Field(
        default=None, description='Tag 1179: the order\'s number; required with correction_type "instruction".'
    )
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=1000)]
    payments: Annotated[list[PaymentIn], Field(min_length=1, max_length=16)]
    cashier: CashierIn | None = None
    taxation: Taxation | None = None
    corrected_fiscal_sign: FiscalSign | None = Field(
        default=None, description="The wrong receipt's fiscal sign (additional attribute 1192)."
    )
    idempotency_key: IdempotencyKey | None = None
    device: DeviceName | None = None

    _as_sent: tuple[tuple[str, str], ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _keep_texts_as_sent(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        model = handler(data)
        model._as_sent = texts_as_sent(data, CORRECTION_TEXTS)
        return model

    @property
    def as_sent(self) -> tuple[tuple[str, str], ...]:
        """The texts normalized for the fiscal drive, by path, as sent."""
        return self._as_sent

    def to_correction(self) -> Correction:
        """The domain correction in kopecks; raises ``InvalidReceipt`` when a rule across fields is broken."""
        return build_correction(
            pos_id=self.pos_id,
            operation=self.type,
            items=[item.to_input() for item in self.items],
            payments=[p.to_payment() for p in self.payments],
            correction_type=self.correction_type,
            basis_date=self.basis_date,
            basis_number=self.basis_number,
            corrected_fiscal_sign=self.corrected_fiscal_sign,
            cashier=None if self.cashier is None else self.cashier.to_cashier(),
            taxation=self.taxation,
            as_sent=self._as_sent,
        )
