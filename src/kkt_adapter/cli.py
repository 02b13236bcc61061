"""The ``kkt-adapter`` command: ``serve`` the adapter; ``emulate`` and ``device`` drive the emulated outside world.

The emulator package is imported only when a command needs it, so that a production ``serve`` never loads it
unless the settings ask for the emulated KKT or the embedded mock OFD.
"""

from __future__ import annotations

import sys

import typer

from kkt_adapter.config import ConfigError, load_settings


def serve() -> None:
    """Start the adapter's HTTP API with the settings from KKT_* variables and .env."""
    from kkt_adapter.intake.drivers import check_supported

    try:
        settings = load_settings()
        check_supported(settings)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    from kkt_adapter.server import run

    run(settings)


def build_app(*, emulators: bool = True) -> typer.Typer:
    """The command line; with ``emulators``, also ``emulate`` (mock OFD, mock ERP) and ``device`` (emulated KKT)."""
    app = typer.Typer(help="Offline-first 54-FZ fiscalization adapter.", no_args_is_help=True)
    # A callback keeps ``serve`` a subcommand even when it is the only command.
    app.callback()(lambda: None)
    app.command()(serve)
    if emulators:
        from kkt_emulators.cli import app as emulate_app
        from kkt_emulators.device.cli import app as device_app

        app.add_typer(emulate_app, name="emulate")
        app.add_typer(
            device_app, name="device", help="Inspect and drive the emulated KKT (status, journal, faults, shifts)."
        )
    return app


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    build_app(emulators=args[:1] != ["serve"])(args=args, prog_name="kkt-adapter")


if __name__ == "__main__":  # pragma: no cover
    main()
