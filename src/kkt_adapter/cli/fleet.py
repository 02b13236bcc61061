"""``kkt-adapter fleet``: a chain of stores on this machine, for trying the alert rules and the dashboard.

Starts N adapters on 127.0.0.1, each with its emulated KKT and embedded mock OFD, writes a Prometheus configuration
that scrapes them (file-based service discovery) and loads the rules, and runs until Ctrl-C, which stops them all.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

#: The rules in a source checkout (``deploy/prometheus/kkt-alerts.yml``), found from this file.
CHECKOUT_RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "kkt-alerts.yml"


def fleet(
    stores: Annotated[int, typer.Option(min=1, max=500, help="Adapters to start, one per store.")] = 20,
    base_port: Annotated[
        int | None, typer.Option(min=1024, max=65000, help="First store's port, +1 each (default: free ports).")
    ] = None,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where each store keeps its buffer and device, and the Prometheus files.")
    ] = Path("fleet"),
    rules: Annotated[
        Path | None, typer.Option(help="The alert rules to load (default: deploy/prometheus/kkt-alerts.yml).")
    ] = None,
    scrape_interval: Annotated[str, typer.Option(help="Prometheus' scrape and rule evaluation interval.")] = "15s",
) -> None:
    """Start a fleet of adapters with emulated KKTs and mock OFDs, write Prometheus' configuration, run until Ctrl-C."""
    from kkt_adapter.testing.fleet import Fleet

    rule_files = [rules] if rules is not None else [CHECKOUT_RULES] if CHECKOUT_RULES.exists() else []
    chain = Fleet(directory.resolve(), stores, base_port=base_port)
    typer.echo(f"starting {stores} adapters under {directory} ...")
    chain.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        config = chain.write_prometheus(
            rules=rule_files, scrape_interval=scrape_interval, evaluation_interval=scrape_interval
        )
        for store in chain:
            typer.echo(f"{store.name}  {store.adapter.url}  device: --data-dir {store.device_dir}")
        typer.echo(f"prometheus --config.file={config}  (rules: {', '.join(map(str, rule_files)) or 'none'})")
        typer.echo("Ctrl-C stops every adapter.")
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        typer.echo("stopping ...")
        chain.stop()
