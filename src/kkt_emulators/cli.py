"""``kkt-adapter emulate ...``: run the emulators standalone."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the OFD and ERP emulators standalone.", no_args_is_help=True)
