"""``device`` commands: look at and operate the emulated KKT on its state directory (mounted as
``kkt-adapter device``). Safe while the adapter runs on the same directory: the device is shared across processes.

The directory is ``--data-dir`` when given, else the adapter's: ``$KKT_DATA_DIR/kkt`` (``./data/kkt`` without the
variable). Commands that only look (``status``, ``journal``) never create a device: on a directory without one they
exit with an error, so that a wrong directory is noticed instead of getting a brand-new fiscal drive.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kkt_emulators.device.errors import DeviceError, DeviceNotFound
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import FiscalDocument
from kkt_emulators.fiscal import format_rubles

app = typer.Typer(help="Operate the emulated KKT: status, journal, faults, shifts.", no_args_is_help=True)

DOC_NAMES = {1: "registration", 2: "shift opening", 3: "receipt", 5: "shift closing"}
OPERATION_NAMES = {1: "sale", 2: "sale refund", 3: "expense", 4: "expense refund"}


class FaultName(StrEnum):
    """Faults the CLI can switch."""

    paper_out = "paper-out"
    offline = "offline"


class Switch(StrEnum):
    """On or off."""

    on = "on"
    off = "off"


#: The adapter's data directory variable, and where under it the adapter keeps the emulated device.
DATA_DIR_ENV = "KKT_DATA_DIR"
DEVICE_SUBDIR = "kkt"


def default_device_dir() -> Path:
    """The adapter's device directory: ``$KKT_DATA_DIR/kkt``, or ``./data/kkt`` when the variable is unset."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data") / DEVICE_SUBDIR


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


def _open(ctx: typer.Context, *, create: bool = True) -> EmulatedKKT:
    """The device in the command's directory; ``create=False`` for commands that only look at it."""
    data_dir = ctx.obj if isinstance(ctx.obj, Path) else default_device_dir()
    try:
        # Operator commands never wait: the print delay emulates the adapter's experience, not the operator's.
        return EmulatedKKT(data_dir, print_delay_ms=0, create=create)
    except DeviceNotFound as exc:
        typer.echo(f"error: {exc}: give --data-dir, or set {DATA_DIR_ENV} to the adapter's data directory", err=True)
        raise typer.Exit(code=1) from exc


def _describe(doc: FiscalDocument) -> str:
    kind = DOC_NAMES.get(doc.doc_type, f"type {doc.doc_type}")
    if doc.operation is not None:
        kind = f"{kind} ({OPERATION_NAMES.get(doc.operation, doc.operation)})"
    parts = [
        f"FD {doc.fd_number}",
        kind,
        doc.fiscal_datetime.strftime("%Y-%m-%d %H:%M:%S"),
        f"shift {doc.shift_number}",
    ]
    if doc.receipt_number is not None:
        parts += [f"receipt {doc.receipt_number}", f"total {format_rubles(doc.total_kop)}"]
    parts.append(f"FP {doc.fiscal_sign}")
    if doc.idempotency_key is not None:
        parts.append(f"key {doc.idempotency_key}")
    return " · ".join(parts)


def _fail(exc: DeviceError) -> typer.Exit:
    typer.echo(f"error [{exc.code}]: {exc.reason}", err=True)
    return typer.Exit(code=1)


@app.command()
def status(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show faults, the shift and the counters."""
    with _open(ctx, create=False) as kkt:
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
            "last_fd_number": st.last_fd_number,
            "fn_number": st.fn_number,
            "reg_number": st.reg_number,
            "inn": reg.inn,
            "kkt_serial": reg.kkt_serial,
        }
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    opened = "" if st.shift_opened_at is None else f", opened {st.shift_opened_at:%Y-%m-%d %H:%M:%S}"
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
    after: Annotated[int, typer.Option("--after", min=0, help="Only documents with a greater FD number.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many documents.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of documents.")] = False,
) -> None:
    """List printed documents in ascending FD order."""
    with _open(ctx, create=False) as kkt:
        docs = kkt.journal(after_fd=after, limit=limit)
    if as_json:
        typer.echo(json.dumps([doc.to_dict() for doc in docs], ensure_ascii=False))
        return
    for doc in docs:
        typer.echo(_describe(doc))


@app.command()
def fault(
    ctx: typer.Context,
    name: Annotated[FaultName, typer.Argument(help="Which fault.")],
    switch: Annotated[Switch, typer.Argument(help="on or off.")],
) -> None:
    """Switch a fault on or off (every process using the device sees it at its next call)."""
    with _open(ctx) as kkt:
        kkt.set_fault("paper_out" if name is FaultName.paper_out else "offline", switch is Switch.on)
    typer.echo(f"{name.value}: {switch.value}")


@app.command("clear-faults")
def clear_faults(ctx: typer.Context) -> None:
    """Switch every fault off."""
    with _open(ctx) as kkt:
        kkt.clear_faults()
    typer.echo("faults cleared")


@app.command("open-shift")
def open_shift(ctx: typer.Context) -> None:
    """Open a shift (prints the shift opening report)."""
    with _open(ctx) as kkt:
        try:
            doc = kkt.open_shift()
        except DeviceError as exc:
            raise _fail(exc) from exc
    typer.echo(_describe(doc))


@app.command("close-shift")
def close_shift(ctx: typer.Context) -> None:
    """Close the open shift (prints the Z report), also an expired one."""
    with _open(ctx) as kkt:
        try:
            doc = kkt.close_shift()
        except DeviceError as exc:
            raise _fail(exc) from exc
    typer.echo(_describe(doc))
