"""``kkt-adapter demo``: a store's day played against the adapter and the emulated outside world.

:mod:`~kkt_adapter.demo.runner` starts the adapter, the mock OFD and the mock ERP and judges the day;
:mod:`~kkt_adapter.demo.day` plays the day over HTTP (tills, the OFD outage, the refund, the Z report);
:mod:`~kkt_adapter.demo.report` summarizes what three independent witnesses saw. The package loads the emulators, so
the command line imports it only inside the ``demo`` command.
"""

from __future__ import annotations

from kkt_adapter.demo.runner import DemoOptions, run

__all__ = ["DemoOptions", "run"]
