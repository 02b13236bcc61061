"""The ATOL driver (``KKT_DRIVER_TYPE=atol``): ATOL's JSON tasks over ATOL Web Requests.

- :mod:`.tasks`, :mod:`.results`, :mod:`.status`, :mod:`.errors` — the mapping between the adapter's values and
  ATOL's JSON tasks, results and error codes: pure functions, no I/O.
- :mod:`.transport` — how jobs of tasks reach the KKT: Web Requests over HTTP (both dialects).
- :mod:`.jobs` — one job's life: queued under its uuid, read back after a lost reply, polled to its end, judged by
  the FN's document counter when left ``blocked``; shared by the single print and the batch (:mod:`.batch`).
- :mod:`.driver` — the :class:`~kkt_adapter.devices.protocol.FiscalDriver` joining them: job ids from the
  idempotency key, polling, ``blocked`` jobs, the journal.
"""

from __future__ import annotations

from kkt_adapter.config import Settings, fiscal_defaults
from kkt_adapter.devices.atol.driver import AtolDriver, job_uuid
from kkt_adapter.devices.atol.errors import AtolOutcomeUnknown
from kkt_adapter.devices.atol.transport import WebRequestsTransport
from kkt_clock import Clock

__all__ = ["AtolDriver", "AtolOutcomeUnknown", "WebRequestsTransport", "from_settings", "job_uuid"]

#: The longest one HTTP exchange with the web server may take (a job's answer comes by polling, not by waiting).
HTTP_TIMEOUT_S = 10.0


def from_settings(settings: Settings, clock: Clock) -> AtolDriver:
    """The ATOL driver the ``KKT_ATOL_*`` settings describe."""
    password = settings.atol_password
    transport = WebRequestsTransport(
        settings.atol_url,
        device_id=settings.atol_device_id,
        user=settings.atol_user,
        password=None if password is None else password.get_secret_value(),
        dialect=settings.atol_dialect,
        timeout=min(HTTP_TIMEOUT_S, settings.atol_job_timeout),
    )
    return AtolDriver(
        transport,
        clock=clock,
        poll_interval=settings.atol_poll_interval,
        job_timeout=settings.atol_job_timeout,
        defaults=fiscal_defaults(settings),
    )
