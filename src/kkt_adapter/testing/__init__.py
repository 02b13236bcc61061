"""Public test helpers: a fake clock and an in-memory fiscal driver with switchable faults."""

from __future__ import annotations

from kkt_adapter.testing.fakes import FakeClock, FakeDriver

__all__ = ["FakeClock", "FakeDriver"]
