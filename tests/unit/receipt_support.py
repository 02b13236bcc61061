"""What the receipt request tests share: the request they vary, a line with FFD 1.2 attributes, a marking code."""

from __future__ import annotations

from typing import Any

from kkt_adapter.testing import bodies

#: A well-formed marking code: GS1 application identifiers separated by GS (0x1D).
MARK = "0104600439931256215Ngw/Q\x1d91FFD0\x1d92dGVzdA=="


def request(**overrides: Any) -> dict[str, Any]:
    """The field's one-line sale with top-level fields added or replaced."""
    return bodies.sale(**overrides)


def item_with(**fields: Any) -> dict[str, Any]:
    """A sale of one line ``A`` at 100 rubles carrying ``fields`` (its FFD 1.2 attributes)."""
    return request(items=[bodies.item("A", **fields)])
