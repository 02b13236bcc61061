"""The emulated ATOL Web Requests server: the HTTP service next to ATOL's driver that queues JSON tasks for a KKT.

:class:`MockAtolServer` serves the v2 API (``/api/v2/requests``, the queue's status, devices, synchronous status
operations) and the older web server's ``/requests`` in front of an :class:`~kkt_emulators.device.EmulatedKKT`, with
the protocol's job states and fault programs. Modules, one idea each: :mod:`.app` (routes), :mod:`.queue` (jobs and
the worker), :mod:`.jobs` (a job's states as each dialect shows them), :mod:`.tasks` (a task against the device),
:mod:`.receipts` (receipt tasks' FFD attributes), :mod:`.results` (result shapes), :mod:`.errors` (error codes),
:mod:`.wire` (ruble amounts and JSON), :mod:`.faults` and :mod:`.admin` (fault programs and their routes),
:mod:`.server` (the server). ``docs/emulators.md`` describes the protocol as emulated.
"""

from __future__ import annotations

from kkt_emulators.atol.server import MockAtolServer

__all__ = ["MockAtolServer"]
