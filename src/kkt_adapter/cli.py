"""The ``kkt-adapter`` command: ``serve`` the adapter; ``emulate`` and ``device`` drive the emulated outside world
(``device detect``, from the adapter's side, looks for a real KKT); ``demo`` plays a store's day against all of them.

The emulator package is imported only when a command needs it, so that a production ``serve`` never loads it
unless the settings ask for the emulated KKT or the embedded mock OFD.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Annotated

import typer

from kkt_adapter.config import ConfigError, load_settings


def serve() -> None:
    """Start the adapter's HTTP API with the settings from KKT_* variables and .env."""
    from kkt_adapter.devices.registry import check_supported

    try:
        settings = load_settings()
        check_supported(settings)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    from kkt_adapter.server import run

    run(settings)


def demo(
    sales: Annotated[int, typer.Option(min=1, max=100_000, help="Sales to play, spread over the tills.")] = 200,
    tills: Annotated[int, typer.Option(min=1, max=64, help="Tills selling at the same time.")] = 4,
    outage: Annotated[
        float, typer.Option(min=0, max=3600, help="Seconds the OFD is down, from a third of the sales on; 0: none.")
    ] = 2.0,
    print_delay_ms: Annotated[
        int, typer.Option(min=0, max=5000, help="The emulated printer's delay per document, in milliseconds.")
    ] = 10,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the buffer and the device here (default: a temporary directory).")
    ] = None,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Keep the adapter and the mocks up after the day, until Ctrl-C.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print the summary as JSON, as the last line of standard output.")
    ] = False,
) -> None:
    """Play a store's day on free loopback ports: the adapter with the emulated KKT, a mock OFD that goes down for a
    while, a mock ERP; several tills, a refund, the Z report. Exit status 0 only if every sale was printed once and
    delivered once."""
    from kkt_adapter.demo import DemoOptions, run

    options = DemoOptions(
        sales=sales,
        tills=tills,
        outage_s=outage,
        print_delay_ms=print_delay_ms,
        data_dir=data_dir,
        keep_running=keep_running,
        json=as_json,
    )
    raise typer.Exit(code=run(options))


def detect(
    url: Annotated[
        str | None,
        typer.Option(help="The ATOL Web Requests server (default: KKT_ATOL_URL, else http://127.0.0.1:16732)."),
    ] = None,
    sysfs: Annotated[Path, typer.Option(help="Where sysfs lists the USB devices.")] = Path("/sys/bus/usb/devices"),
    timeout: Annotated[
        float, typer.Option(min=0.1, max=60, help="Seconds to wait for each answer of the server.")
    ] = 3.0,
) -> None:
    """Find the KKT: ask the ATOL Web Requests server for its versions and devices (Basic auth from KKT_ATOL_USER and
    KKT_ATOL_PASSWORD), and list the USB devices of known KKT makers. Exit status 1 when neither finds anything."""
    from kkt_adapter.devices.detect import atol_connection, probe_server, report_lines, scan_usb

    connection = atol_connection()
    server = probe_server(url or connection.url, user=connection.user, password=connection.password, timeout=timeout)
    lines, found = report_lines(server, scan_usb(sysfs))
    for line in lines:
        typer.echo(line)
    raise typer.Exit(code=0 if found else 1)


def _device_commands(emulated: typer.Typer) -> typer.Typer:
    """The emulator's ``device`` commands and the adapter's ``detect``, on a copy: the emulator's own command line
    is left as it is (and the emulators never import the adapter)."""
    device = copy.copy(emulated)
    device.registered_commands = [*emulated.registered_commands]
    device.command("detect")(detect)
    return device


def build_app(*, emulators: bool = True) -> typer.Typer:
    """The command line; with ``emulators``, also ``emulate`` (mock OFD, mock ERP) and ``device`` (emulated KKT)."""
    app = typer.Typer(help="Offline-first 54-FZ fiscalization adapter.", no_args_is_help=True)
    # A callback keeps ``serve`` a subcommand even when it is the only command.
    app.callback()(lambda: None)
    app.command()(serve)
    app.command()(demo)
    from kkt_adapter.buffer_cli import app as buffer_app

    app.add_typer(buffer_app, name="buffer")
    if emulators:
        from kkt_emulators.cli import app as emulate_app
        from kkt_emulators.device.cli import app as device_app

        app.add_typer(emulate_app, name="emulate")
        app.add_typer(
            _device_commands(device_app),
            name="device",
            help="Inspect and drive the emulated KKT (status, journal, faults, shifts); detect looks for a real one.",
        )
    return app


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    build_app(emulators=args[:1] != ["serve"])(args=args, prog_name="kkt-adapter")


if __name__ == "__main__":  # pragma: no cover
    main()
