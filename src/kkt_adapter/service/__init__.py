"""The application service between the entry points (HTTP routes, the receipt's short path, the operator's page) and
the core: receipts and corrections, the fiscal day, queries, sync and the DLQ.

It takes domain values and names (a :class:`~kkt_adapter.domain.receipt.Receipt`, a device's name, an idempotency
key) and returns domain values or plain data, which the entry point turns into its answers; it raises the domain's
errors (:mod:`kkt_adapter.domain.errors`) and knows nothing of HTTP.

- :mod:`.receipts`: sales, refunds and corrections, printed once per key;
- :mod:`.fiscal_day`: the shift, X and Z reports, the FN, the ERP's refund check;
- :mod:`.queries`: a receipt, its events, the latest receipts and a search, QR strings, status views, metrics;
- :mod:`.sync` and :mod:`.dlq`: a sync pass now, the worker's state, dead letters and requeue;
- :mod:`.app`: the facade :class:`AppService` that the composition root builds.
"""

from __future__ import annotations

from kkt_adapter.service.app import AppService, build_service
from kkt_adapter.service.errors import STORAGE_FAULTS

__all__ = ["STORAGE_FAULTS", "AppService", "build_service"]
