"""What the ``device`` commands share: which directory holds the device, opening it, describing a document, and
turning a device's refusal into an exit code."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from kkt_emulators.device.errors import DeviceError, DeviceNotFound
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import FiscalDocument
from kkt_emulators.fiscal import format_rubles

DOC_NAMES = {1: "registration", 2: "shift opening", 3: "receipt", 5: "shift closing", 31: "correction"}
OPERATION_NAMES = {1: "sale", 2: "sale refund", 3: "expense", 4: "expense refund"}

#: The adapter's data directory variable, and where under it the adapter keeps the emulated device.
DATA_DIR_ENV = "KKT_DATA_DIR"
DEVICE_SUBDIR = "kkt"


def default_device_dir() -> Path:
    """The adapter's device directory: ``$KKT_DATA_DIR/kkt``, or ``./data/kkt`` when the variable is unset."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data") / DEVICE_SUBDIR


def open_device(ctx: typer.Context, *, create: bool = True) -> EmulatedKKT:
    """The device in the command's directory; ``create=False`` for commands that only look at it."""
    data_dir = ctx.obj if isinstance(ctx.obj, Path) else default_device_dir()
    try:
        # Operator commands never wait: the print delay emulates the adapter's experience, not the operator's.
        return EmulatedKKT(data_dir, print_delay_ms=0, create=create)
    except DeviceNotFound as exc:
        typer.echo(f"error: {exc}: give --data-dir, or set {DATA_DIR_ENV} to the adapter's data directory", err=True)
        raise typer.Exit(code=1) from exc


def describe(doc: FiscalDocument) -> str:
    """One line for a document: number, kind, time, shift, receipt number and total, fiscal sign, key."""
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


def fail(exc: DeviceError) -> typer.Exit:
    """Print the device's refusal (its code and reason) and exit 1."""
    typer.echo(f"error [{exc.code}]: {exc.reason}", err=True)
    return typer.Exit(code=1)
