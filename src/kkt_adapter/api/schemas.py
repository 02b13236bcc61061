"""Request bodies of the API, exactly as the field's documents write them; amounts are ``Decimal`` rubles."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from kkt_adapter.domain.money import to_kopecks
from kkt_adapter.domain.receipt import VAT_RATE_CODES, ItemInput, Payment, Receipt, build_receipt

ALLOWED_VAT = ", ".join(repr(rate) if "/" in rate or rate == "none" else rate for rate in VAT_RATE_CODES)


def _vat_rate(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"vat_rate must be one of {ALLOWED_VAT}")
    if isinstance(value, int | Decimal) or (isinstance(value, float) and value.is_integer()):
        text = str(int(value)) if Decimal(str(value)) == int(value) else str(value)
    elif isinstance(value, str):
        text = value.strip().lower()
    else:
        raise ValueError(f"vat_rate must be one of {ALLOWED_VAT}")
    if text not in VAT_RATE_CODES:
        raise ValueError(f"vat_rate must be one of {ALLOWED_VAT}, got {value!r}")
    return text


Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
#: Up to 99,999.999 with three decimals: what a fiscal drive takes in tag 1023.
Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("99999.999"), decimal_places=3, allow_inf_nan=False)]
VatRate = Annotated[str, BeforeValidator(_vat_rate)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class ItemIn(BaseModel):
    """One item line: unit price and optional line total in rubles, quantity, VAT rate (percent or fraction)."""

    model_config = ConfigDict(extra="forbid", strict=False)

    name: Name
    price: Money
    quantity: Quantity
    vat_rate: VatRate
    total: Money | None = None


class PaymentIn(BaseModel):
    """One payment: ``cash``, ``card`` (= ``electronic``), ``prepaid``, ``credit`` or ``provision``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["cash", "card", "electronic", "prepaid", "credit", "provision"]
    amount: Money


class ReceiptIn(BaseModel):
    """A sale or a refund of a sale."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pos_id": "POS-001",
                    "type": "sale",
                    "items": [{"name": "Test Product", "price": 100, "quantity": 1, "vat_rate": 20}],
                    "payments": [{"type": "cash", "amount": 100}],
                }
            ]
        },
    )

    pos_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    type: Literal["sale", "refund"]
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=1000)]
    payments: Annotated[list[PaymentIn], Field(min_length=1, max_length=16)]

    def to_receipt(self) -> Receipt:
        """The domain receipt in kopecks; raises ``InvalidReceipt`` when the sums do not balance."""
        return build_receipt(
            pos_id=self.pos_id,
            operation=self.type,
            items=[
                ItemInput(
                    name=item.name,
                    price_kop=to_kopecks(item.price),
                    quantity=item.quantity,
                    vat_rate=item.vat_rate,
                    total_kop=None if item.total is None else to_kopecks(item.total),
                )
                for item in self.items
            ],
            payments=[Payment(kind=p.type, amount_kop=to_kopecks(p.amount)) for p in self.payments],
        )
