"""How the adapter is observed: health, buffer status, the ERP heartbeat and Prometheus metrics."""

from __future__ import annotations
