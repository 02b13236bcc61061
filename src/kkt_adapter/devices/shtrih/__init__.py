"""The Shtrih-M driver (``KKT_DRIVER_TYPE=shtrih``): the KKT's native protocol over TCP or a serial line.

- :mod:`.frames` — the v1 and v2 framings, pure.
- :mod:`.link` — the byte links (TCP, serial through pyserial).
- :mod:`.channel` — one request and its answer in either framing; which failures may be retried.
"""
