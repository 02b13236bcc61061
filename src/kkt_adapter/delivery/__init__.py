"""Phase 2: deliver pending receipts to the OFD: client, circuit breaker, backoff, and the sync worker."""

from __future__ import annotations
