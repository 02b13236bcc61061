"""Sales, refunds and corrections: each printed once per idempotency key, on the device routing chooses.

This is the receipt path's service, called once per receipt by the route and by its short path
(``api/fast_receipt.py``), so it adds nothing to a receipt's cost: :meth:`Receipts.accept` hands on the router's own
coroutine instead of wrapping it in one more.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.intake.devices import Devices


class Receipts:
    """Accepts a receipt or a correction for printing; the answer is the JSON body of the first answer for its key."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices

    def accept(self, request: Receipt | Correction, *, key: str, device: str | None = None) -> Coroutine[Any, Any, str]:
        """Print ``request`` once for ``key`` (on ``device`` only, when it is named), moving a sale to another device
        only after a definite refusal; a replay of ``key`` answers the stored first answer without printing.

        Domain errors (a full buffer, a refusal, a key in flight or reused with another body) are raised as
        :class:`~kkt_adapter.domain.errors.AdapterError`.
        """
        return self._devices.accept(request, key=key, device=device)
