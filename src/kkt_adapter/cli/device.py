"""``kkt-adapter device``: the emulator's device commands, and ``detect``, which looks for a real KKT from the
adapter's side."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated

import typer


def detect(
    url: Annotated[
        str | None,
        typer.Option(help="The ATOL Web Requests server (default: KKT_ATOL_URL, else http://127.0.0.1:16732)."),
    ] = None,
    sysfs: Annotated[Path, typer.Option(help="Where sysfs lists the USB devices.")] = Path("/sys/bus/usb/devices"),
    timeout: Annotated[
        float, typer.Option(min=0.1, max=60, help="Seconds to wait for each answer of the server.")
    ] = 3.0,
    shtrih_url: Annotated[
        str, typer.Option(help="Where to ask for a Shtrih-M KKT on TCP (default: KKT_SHTRIH_URL's tcp:// address).")
    ] = "",
    serial_port: Annotated[
        list[str] | None,
        typer.Option(help="A serial port to probe for a Shtrih-M (repeatable; default: /dev/ttyUSB*, /dev/ttyACM*)."),
    ] = None,
) -> None:
    """Find the KKT: ask the ATOL Web Requests server for its versions and devices (Basic auth from KKT_ATOL_USER and
    KKT_ATOL_PASSWORD), list the USB devices of known KKT makers, and ask for a Shtrih-M's type (FCh) on TCP and on
    the serial ports that open. Exit status 1 when nothing is found."""
    import os

    from kkt_adapter.devices.detect import atol_connection, probe_server, report_lines, scan_usb
    from kkt_adapter.devices.detect_shtrih import DEFAULT_SHTRIH_URL, probe_all

    connection = atol_connection()
    server = probe_server(url or connection.url, user=connection.user, password=connection.password, timeout=timeout)
    configured = os.environ.get("KKT_SHTRIH_URL", "")
    tcp = shtrih_url or (configured if configured.startswith("tcp://") else DEFAULT_SHTRIH_URL)
    shtrih = probe_all(tcp, serial_paths=serial_port or None, timeout=min(timeout, 1.0))
    lines, found = report_lines(server, scan_usb(sysfs), shtrih)
    for line in lines:
        typer.echo(line)
    raise typer.Exit(code=0 if found else 1)


def device_commands(emulated: typer.Typer) -> typer.Typer:
    """The emulator's ``device`` commands and the adapter's ``detect``, on a copy: the emulator's own command line
    is left as it is (and the emulators never import the adapter)."""
    device = copy.copy(emulated)
    device.registered_commands = [*emulated.registered_commands]
    device.command("detect")(detect)
    return device
