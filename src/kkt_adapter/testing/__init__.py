"""Public test helpers: a fake clock, an in-memory fiscal driver with switchable faults, polling with deadlines,
:class:`AdapterProcess`, a real ``kkt-adapter serve`` process to start, stop or SIGKILL, and :mod:`bodies`, the API's
request bodies (a sale, a refund, a correction).

Importing this module loads neither the web framework nor the emulator package.
"""

from __future__ import annotations

from kkt_adapter.testing import bodies
from kkt_adapter.testing.fakes import FakeClock, FakeDriver
from kkt_adapter.testing.polling import wait_for
from kkt_adapter.testing.process import AdapterProcess

__all__ = ["AdapterProcess", "FakeClock", "FakeDriver", "bodies", "wait_for"]
