"""Money is integer kopecks; amounts arrive as ``Decimal`` rubles and are converted exactly or refused."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

KOPECKS_PER_RUBLE = 100


def to_kopecks(rubles: Decimal) -> int:
    """Convert rubles with at most two decimals to kopecks exactly; more precision raises ``ValueError``."""
    kopecks = rubles * KOPECKS_PER_RUBLE
    if kopecks != kopecks.to_integral_value():
        raise ValueError(f"{rubles} has more than 2 decimal places")
    return int(kopecks)


def line_sum(price_kop: int, quantity: Decimal) -> int:
    """The sum of an item line, price × quantity, rounded half up to the kopeck."""
    return int((Decimal(price_kop) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rubles(kopecks: int) -> Decimal:
    """Kopecks as a ``Decimal`` number of rubles with two places (for responses)."""
    return (Decimal(kopecks) / KOPECKS_PER_RUBLE).quantize(Decimal("0.01"))
