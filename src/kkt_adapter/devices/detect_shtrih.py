"""``kkt-adapter device detect``'s look for a Shtrih-M KKT: its native protocol on TCP (7778 by default) and on the
serial ports this user can open.

Each address gets one read-only command, FCh "device type" (no password, prints nothing), in the protocol the KKT
answers (v2's sync packet first, else v1's ENQ); the answer names the model. A port that cannot be opened, stays
silent or answers something else is reported with why, and the next one is tried.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_SHTRIH_URL = "tcp://127.0.0.1:7778"
#: Where USB-serial adapters and CDC devices appear on Linux; a Shtrih-M on USB is one of them.
SERIAL_PATTERNS = ("/dev/ttyUSB*", "/dev/ttyACM*")
SERIAL_BAUDS = (115200, 4800)


@dataclass(frozen=True)
class ShtrihReport:
    """What one address answered: the model and protocol, or why nothing was found there."""

    url: str
    found: bool
    model: str | None = None
    protocol: str | None = None
    problem: str | None = None

    def line(self) -> str:
        if self.found:
            return f"Shtrih-M at {self.url}: {self.model or 'model not named'} (protocol {self.protocol})"
        return f"Shtrih-M at {self.url}: not found: {self.problem}"


def probe_shtrih(url: str, *, timeout: float = 1.0) -> ShtrihReport:
    """Ask the KKT at ``url`` (``tcp://`` or ``serial://``) for its type (FCh)."""
    from kkt_adapter.devices.shtrih import commands
    from kkt_adapter.devices.shtrih.channel import V2Channel
    from kkt_adapter.devices.shtrih.device import open_channel
    from kkt_adapter.devices.shtrih.frames import command_bytes
    from kkt_adapter.devices.shtrih.link import open_link, parse_url

    try:
        link = open_link(parse_url(url))
    except (ValueError, OSError) as exc:
        return ShtrihReport(url, False, problem=str(exc))
    try:
        channel = open_channel(link, "auto", byte_timeout=min(timeout, 0.5), answer_timeout=timeout)
        data = commands.payload(0xFC, channel.exchange(command_bytes(0xFC)))
        protocol = "v2" if isinstance(channel, V2Channel) else "v1"
        model = data[6:].split(b"\x00", 1)[0].decode(commands.WIRE_ENCODING, errors="replace").strip()
        return ShtrihReport(url, True, model=model, protocol=protocol)
    except Exception as exc:  # any failure means "no Shtrih-M here", said with its reason
        return ShtrihReport(url, False, problem=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    finally:
        link.close()


def serial_candidates(patterns: Iterable[str] = SERIAL_PATTERNS) -> list[str]:
    """The serial device files present now, in name order."""
    return sorted({path for pattern in patterns for path in glob.glob(pattern)})


def probe_all(
    tcp_url: str = DEFAULT_SHTRIH_URL, *, serial_paths: Iterable[str] | None = None, timeout: float = 1.0
) -> list[ShtrihReport]:
    """The TCP address, then each serial port at each usual speed until one answers."""
    reports = [probe_shtrih(tcp_url, timeout=timeout)]
    for path in serial_candidates() if serial_paths is None else serial_paths:
        for baud in SERIAL_BAUDS:
            report = probe_shtrih(f"serial://{path}?baud={baud}", timeout=timeout)
            reports.append(report)
            if report.found:
                break
    return reports
