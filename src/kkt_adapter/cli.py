"""The ``kkt-adapter`` command: ``serve`` the adapter, ``emulate`` the outside world."""

from __future__ import annotations

import typer

from kkt_adapter.config import ConfigError, load_settings
from kkt_emulators.cli import app as emulate_app
from kkt_emulators.device.cli import app as device_app

app = typer.Typer(help="Offline-first 54-FZ fiscalization adapter.", no_args_is_help=True)
app.add_typer(emulate_app, name="emulate")
app.add_typer(device_app, name="device", help="Inspect and drive the emulated KKT (status, journal, faults, shifts).")


@app.command()
def serve() -> None:
    """Start the adapter's HTTP API with the settings from KKT_* variables and .env."""
    from kkt_adapter.bootstrap import check_supported

    try:
        settings = load_settings()
        check_supported(settings)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    from kkt_adapter.server import run

    run(settings)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="kkt-adapter")


if __name__ == "__main__":  # pragma: no cover
    main()
