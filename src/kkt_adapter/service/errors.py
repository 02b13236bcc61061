"""The storage faults an entry point may see untranslated.

The receipt path translates the buffer's faults into :class:`~kkt_adapter.domain.errors.StorageUnavailable`; a read
elsewhere (a receipt, the DLQ, the page's list) lets them pass as they are, and the entry point answers them as a
storage fault (the HTTP layer: a 503 with ``Retry-After`` from its one error table). Named here so that the entry
points need not know the buffer.
"""

from __future__ import annotations

import sqlite3

from kkt_adapter.buffer.connection import StorageError

#: Exceptions that mean the buffer's storage failed.
STORAGE_FAULTS: tuple[type[Exception], ...] = (sqlite3.Error, StorageError)
