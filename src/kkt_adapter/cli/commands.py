"""The adapter's own top-level commands: ``serve`` the HTTP API, play a store's ``demo`` day."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from kkt_adapter.config import ENV_PREFIX, ConfigError, Settings, load_settings
from kkt_adapter.config.unknown import given_names, known_names, unknown_variables

#: The ``.env`` file the settings are read from (in the working directory).
ENV_FILE = Path(".env")


def serve(
    host: Annotated[str | None, typer.Option(help="Listen on this address (instead of KKT_API_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Listen on this port (instead of KKT_API_PORT).")
    ] = None,
) -> None:
    """Start the adapter's HTTP API with the settings from KKT_* variables and .env."""
    from kkt_adapter.devices.registry import check_supported

    # As variables of this process: they win over .env as the variables do, and are validated like them.
    if host is not None:
        os.environ[f"{ENV_PREFIX}API_HOST"] = host
    if port is not None:
        os.environ[f"{ENV_PREFIX}API_PORT"] = str(port)
    try:
        settings = load_settings(env_file=ENV_FILE)
        check_supported(settings)
        unknown = unknown_variables(given_names(os.environ, ENV_FILE), known_names(Settings.model_fields))
        if unknown and settings.mode == "production":
            raise ConfigError(
                "unknown variables (KKT_MODE=production starts only with known ones):\n  " + "\n  ".join(unknown)
            )
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    from kkt_adapter.server import run

    run(settings, warnings=unknown)


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
