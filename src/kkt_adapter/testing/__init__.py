"""Public test helpers: a fake clock, an in-memory fiscal driver with switchable faults, polling with deadlines.

``kkt_adapter.testing.process.AdapterProcess`` runs a real ``kkt-adapter serve`` process.
"""

from __future__ import annotations

from kkt_adapter.testing.fakes import FakeClock, FakeDriver
from kkt_adapter.testing.polling import wait_for

__all__ = ["FakeClock", "FakeDriver", "wait_for"]
