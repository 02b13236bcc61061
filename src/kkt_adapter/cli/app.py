"""The ``kkt-adapter`` command line assembled from its groups, and the console-script entry point."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kkt_adapter import __version__
from kkt_adapter.cli.commands import demo, serve
from kkt_adapter.cli.device import device_commands


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"kkt-adapter {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Offline-first 54-FZ fiscalization adapter."""


def build_app(*, emulators: bool = True) -> typer.Typer:
    """The command line; with ``emulators``, also ``emulate`` (mock OFD, mock ERP) and ``device`` (emulated KKT)."""
    # Plain help (no rich boxes): a flag is shown without a value (rich help wrote "--json <bool>").
    app = typer.Typer(help="Offline-first 54-FZ fiscalization adapter.", no_args_is_help=True, rich_markup_mode=None)
    # The callback keeps ``serve`` a subcommand even when it is the only command, and answers --version.
    app.callback()(_root)
    app.command()(serve)
    app.command()(demo)
    from kkt_adapter.cli.buffer import app as buffer_app

    app.add_typer(buffer_app, name="buffer")
    from kkt_adapter.cli.fleet import fleet

    app.command()(fleet)
    if emulators:
        from kkt_emulators.cli import app as emulate_app
        from kkt_emulators.device.cli import app as device_app

        app.add_typer(emulate_app, name="emulate")
        app.add_typer(
            device_commands(device_app),
            name="device",
            help="Inspect and drive the emulated KKT (status, journal, faults, shifts); detect looks for a real one.",
        )
    return app


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    build_app(emulators=args[:1] != ["serve"])(args=args, prog_name="kkt-adapter")
