"""The adapter's own top-level commands: ``serve`` the HTTP API, play a store's ``demo`` day."""

from __future__ import annotations

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
