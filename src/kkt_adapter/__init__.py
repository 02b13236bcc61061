"""kkt-adapter: an offline-first 54-FZ fiscalization adapter between a POS/ERP and a KKT cash register."""

from __future__ import annotations

__version__ = "0.1.0"
