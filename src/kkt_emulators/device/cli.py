"""``device`` commands: look at and operate the emulated KKT on its state directory (mounted as
``kkt-adapter device``). Safe while the adapter runs on the same directory: the device is shared across processes.

The directory is ``--data-dir`` when given, else the adapter's: ``$KKT_DATA_DIR/kkt`` (``./data/kkt`` without the
variable). Commands that only look (``status``, ``journal``, ``shift status``, ``x-report``, ``fn``) never create a
device: on a directory without one they exit with an error, so that a wrong directory is noticed instead of getting a
brand-new fiscal drive. The fiscal day's commands (``shift``, ``x-report``, ``correction``) and the FN's (``fn``,
``ack``) are in :mod:`kkt_emulators.device.cli_fiscal`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kkt_emulators.device import cli_fiscal
from kkt_emulators.device.cli_common import default_device_dir, describe, open_device

app = typer.Typer(
    help="Operate the emulated KKT: status, journal, faults, shifts, reports, corrections, the FN.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class FaultName(StrEnum):
    """Faults the CLI can switch."""

    paper_out = "paper-out"
    offline = "offline"


class Switch(StrEnum):
    """On or off."""

    on = "on"
    off = "off"


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="The device's state directory (default: $KKT_DATA_DIR/kkt, or ./data/kkt without the variable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Operate the emulated KKT stored under --data-dir (by default, the adapter's)."""
    ctx.obj = data_dir if data_dir is not None else default_device_dir()


@app.command()
def status(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show faults, the shift and the counters."""
    with open_device(ctx, create=False) as kkt:
        st = kkt.status()
        reg = kkt.registration
    if as_json:
        data = {
            "online": st.online,
            "paper": st.paper,
            "shift_open": st.shift_open,
            "shift_number": st.shift_number,
            "receipts_in_shift": st.receipts_in_shift,
            "shift_opened_at": None if st.shift_opened_at is None else st.shift_opened_at.isoformat(),
            "shift_expired": st.shift_expired,
            "shift_expires_at": None if st.shift_expires_at is None else st.shift_expires_at.isoformat(),
            "last_fd_number": st.last_fd_number,
            "fn_number": st.fn_number,
            "reg_number": st.reg_number,
            "inn": reg.inn,
            "kkt_serial": reg.kkt_serial,
        }
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    opened = "" if st.shift_opened_at is None else f", opened {st.shift_opened_at:%Y-%m-%d %H:%M:%S}"
    if st.shift_expires_at is not None:
        opened += f", expires {st.shift_expires_at:%Y-%m-%d %H:%M:%S}"
    shift = f"open, {st.receipts_in_shift} receipts{opened}" if st.shift_open else "closed"
    lines = [
        f"online:      {'yes' if st.online else 'NO (offline fault)'}",
        f"paper:       {'yes' if st.paper else 'NO (paper-out fault)'}",
        f"shift:       {st.shift_number} {shift}{' — EXPIRED (over 24 h)' if st.shift_expired else ''}",
        f"last FD:     {st.last_fd_number}",
        f"FN number:   {st.fn_number}",
        f"reg. number: {st.reg_number}",
        f"INN:         {reg.inn}",
        f"KKT serial:  {reg.kkt_serial}",
    ]
    typer.echo("\n".join(lines))


@app.command()
def journal(
    ctx: typer.Context,
    after: Annotated[
        int | None,
        typer.Option("--after", min=0, help="The documents after this FD number (default: the newest --limit ones)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many documents.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of documents.")] = False,
) -> None:
    """List printed documents, oldest first: the newest --limit of them, or those after --after."""
    with open_device(ctx, create=False) as kkt:
        start = max(0, kkt.fn_status().documents_count - limit) if after is None else after
        docs = kkt.journal(after_fd=start, limit=limit)
    if as_json:
        typer.echo(json.dumps([doc.to_dict() for doc in docs], ensure_ascii=False))
        return
    for doc in docs:
        typer.echo(describe(doc))


@app.command()
def fault(
    ctx: typer.Context,
    name: Annotated[FaultName, typer.Argument(help="Which fault.")],
    switch: Annotated[Switch, typer.Argument(help="on or off.")],
) -> None:
    """Switch a fault on or off (every process using the device sees it at its next call)."""
    with open_device(ctx) as kkt:
        kkt.set_fault("paper_out" if name is FaultName.paper_out else "offline", switch is Switch.on)
    typer.echo(f"{name.value}: {switch.value}")


@app.command("clear-faults")
def clear_faults(ctx: typer.Context) -> None:
    """Switch every fault off."""
    with open_device(ctx) as kkt:
        kkt.clear_faults()
    typer.echo("faults cleared")


app.add_typer(cli_fiscal.shift_app, name="shift")
app.command("open-shift", help="Open a shift (same as `shift open`).")(cli_fiscal.shift_open)
app.command("close-shift", help="Close the open shift (same as `shift close`).")(cli_fiscal.shift_close)
app.command("x-report")(cli_fiscal.x_report)
app.command("correction")(cli_fiscal.correction)
app.command("fn")(cli_fiscal.fn_status)
app.command("ack")(cli_fiscal.ack)
