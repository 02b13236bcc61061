"""The one line a start logs once the devices have answered: what this adapter is about to do, so that an operator
reading the log of a till can tell a production start on a real KKT from a trial on the emulated one.

It names the mode, each device (its driver, FN number and the KKT's registration number, or why it did not answer),
the OFD delivery (mode and target), the API's address and whether a token guards it. Secrets never appear: the OFD's
address is shown without its credentials, the token only as set or not.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from kkt_adapter.bootstrap.adapter import Adapter
from kkt_adapter.config import ApiSettings


def _target(url: str | None) -> str:
    if url is None:
        return "nowhere"
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def started_line(adapter: Adapter) -> str:
    """``mode ...; device main (atol): FN ..., registration ...; OFD ...; API ...``, for the log."""
    settings = adapter.settings
    devices = []
    for unit in adapter.devices.units:
        snapshot = unit.lane.monitor.snapshot()
        state = snapshot.state
        if state is None:
            what = f"not answering ({snapshot.last_error or 'no answer yet'})"
        else:
            what = f"FN {state.fn_number or '?'}, registration {state.kkt_number or '?'}"
        devices.append(f"device {unit.name} ({unit.kind}): {what}")
    delivery = adapter.delivery
    if not settings.sync_enabled:
        ofd = "OFD delivery off (KKT_SYNC_ENABLED=false)"
    elif delivery.trackers:
        ofd = "OFD delivery by the KKT (KKT_OFD_DELIVERY=device)"
    elif delivery.embedded:
        ofd = f"OFD delivery over HTTP to the embedded mock OFD {_target(delivery.ofd_url)}"
    else:
        ofd = f"OFD delivery over HTTP to {_target(delivery.ofd_url)}"
    api = ApiSettings.of(settings)
    token = "token set" if api.token is not None else "no token"
    return f"started in {settings.mode} mode; {'; '.join(devices)}; {ofd}; API on {api.host}:{api.port} ({token})"
