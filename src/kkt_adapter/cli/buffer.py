"""``kkt-adapter buffer``: verify the buffer file against the device's journal, recover a damaged one from the
journal, back it up while the adapter runs.

The settings come from ``KKT_*`` variables and ``.env`` (``KKT_DATA_DIR`` names the buffer); each device is opened
by the composition root as the adapter opens it (``kkt_adapter.bootstrap``). Heavy imports happen inside the
commands, so mounting this sub-app costs the other commands nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kkt_adapter.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from kkt_adapter.buffer import Buffer
    from kkt_clock import SystemClock

app = typer.Typer(
    help="Check, recover and back up the buffer file (KKT_DATA_DIR/buffer.sqlite3).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

#: Journal documents read per request while comparing.
_BATCH = 500


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc


@app.command()
def verify() -> None:
    """Run SQLite's integrity check on the buffer and compare it with the device's journal: report every document
    the OFD has not acknowledged that the buffer lacks. Exit status 1 if anything is wrong."""
    from kkt_adapter.buffer import integrity

    settings = _settings()
    path = settings.buffer_path
    if not path.exists():
        typer.echo(
            f"{path}: no buffer file; the next start (or `kkt-adapter buffer recover`) rebuilds it from the "
            "device's journal",
            err=True,
        )
        raise typer.Exit(code=1)
    problems = integrity.check(path, full=True)
    if problems:
        typer.echo(f"{path}: damaged (PRAGMA integrity_check):", err=True)
        for problem in problems[:20]:
            typer.echo(f"  {problem}", err=True)
        typer.echo("stop the adapter and run `kkt-adapter buffer recover`", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{path}: integrity_check ok")
    lacking = 0
    for index, name in enumerate(_labels(settings)):
        lacking += _verify_device(path, settings, index, name)
    if lacking:
        typer.echo(
            "the next start stores them from the journal (or stop the adapter and run `kkt-adapter buffer recover`)",
            err=True,
        )
        raise typer.Exit(code=1)
    typer.echo("the buffer holds every document the OFD has not acknowledged")


def _labels(settings: Settings) -> list[str | None]:
    """How the output names each device: by its name when ``KKT_DEVICES`` lists the devices (even one), else not at
    all (the one-device settings' output reads as it always did)."""
    named = settings.devices is not None
    return [device.name if named else None for device in settings.device_list]


def _verify_device(path: Path, settings: Settings, index: int, name: str | None) -> int:
    """Compare the buffer with one device's journal; report and return how many of its documents the buffer lacks."""
    from kkt_adapter.bootstrap import device_driver
    from kkt_adapter.buffer import integrity
    from kkt_clock import SystemClock

    driver = device_driver(settings, index, SystemClock())
    try:
        fn = driver.fn_status()
        held = integrity.held(path, fn.fn_number)
        # Documents before the FN's first unacknowledged one reached the OFD: the buffer may have let them go.
        start = fn.documents_count if fn.first_unsent_fd_number is None else fn.first_unsent_fd_number - 1
        missing = []
        after = start
        while batch := driver.journal(after_fd=after, limit=_BATCH):
            missing.extend(integrity.lacking(held, batch))
            after = batch[-1].result.fiscal_doc_number
    finally:
        driver.close()
    label = "device" if name is None else f"device {name}"
    states = ", ".join(f"{state} {count}" for state, count in sorted(held.states.items())) or "empty"
    typer.echo(f"buffer: {states}")
    typer.echo(
        f"{label}: FN {fn.fn_number}, {fn.documents_count} documents, {fn.unsent_count} not acknowledged by the OFD"
        + ("" if fn.first_unsent_fd_number is None else f" (the first: FD {fn.first_unsent_fd_number})")
    )
    if missing:
        numbers = [entry.result.fiscal_doc_number for entry in missing]
        shown = ", ".join(str(n) for n in numbers[:50]) + (" ..." if len(numbers) > 50 else "")
        typer.echo(f"the buffer lacks {len(missing)} documents of the {label}'s journal: FD {shown}", err=True)
    return len(missing)


@app.command()
def recover() -> None:
    """Move a damaged buffer file aside (``buffer.sqlite3.damaged-<timestamp>``) and rebuild the buffer from the
    device's journal, as a start does; report how many documents were restored. Stop the adapter first."""
    from kkt_adapter.buffer import Buffer, integrity
    from kkt_adapter.buffer.device_rows import DeviceRows
    from kkt_clock import SystemClock

    settings = _settings()
    path = settings.buffer_path
    if path.exists():
        if integrity.in_use(path):
            typer.echo(f"{path}: in use by a running adapter; stop it first", err=True)
            raise typer.Exit(code=1)
        problems = integrity.check(path, full=True)
        if not problems:
            typer.echo(
                f"{path}: intact (integrity_check ok); nothing to recover. `kkt-adapter buffer verify` "
                "compares it with the device's journal"
            )
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        moved = integrity.move_aside(path, stamp=stamp)
        typer.echo(f"{path}: damaged ({problems[0]}); moved aside: " + ", ".join(p.name for p in moved))
    else:
        typer.echo(f"{path}: no buffer file; building one from the device's journal")
    clock = SystemClock()
    buffer = Buffer(path, clock=clock)
    try:
        DeviceRows(buffer.db, clock=clock).name_unnamed(settings.device_list[0].name)
        for index, name in enumerate(_labels(settings)):
            _recover_device(buffer, settings, index, clock, name)
    finally:
        buffer.close()


def _recover_device(buffer: Buffer, settings: Settings, index: int, clock: SystemClock, name: str | None) -> None:
    """Settle one device's interrupted receipts and store what its journal has that the buffer lacks; report it."""
    from kkt_adapter.bootstrap import offline_device

    with offline_device(settings, buffer, index, clock) as unit:
        unit.recovery.reconcile()
        restored = unit.recovery.catch_up()
        first_unsent = unit.driver.fn_status().first_unsent_fd_number
    events = [event for event in buffer.events(limit=10) if event["kind"] == "restore"]
    prefix = "" if name is None else f"device {name}: "
    detail = events[-1]["detail"] if restored and events else f"{restored} documents restored"
    typer.echo(f"{prefix}{detail}; they are pending, sent to the OFD once the adapter runs")
    if first_unsent is not None and first_unsent > 1:
        typer.echo(
            f"{prefix}documents before FD {first_unsent} were acknowledged by the OFD already and are not restored"
        )


@app.command()
def backup(
    destination: Annotated[Path, typer.Argument(help="The copy to write (it must not exist).")],
) -> None:
    """Copy the buffer with SQLite's online backup: a consistent snapshot, safe while the adapter runs."""
    from kkt_adapter.buffer import integrity

    settings = _settings()
    try:
        problems = integrity.backup(settings.buffer_path, destination)
    except FileNotFoundError:
        typer.echo(f"{settings.buffer_path}: no buffer file to back up", err=True)
        raise typer.Exit(code=1) from None
    except FileExistsError:
        typer.echo(f"{destination}: exists already; name a new file", err=True)
        raise typer.Exit(code=1) from None
    if problems:
        typer.echo(f"{destination}: the copy fails quick_check: {problems[0]}", err=True)
        raise typer.Exit(code=1)
    typer.echo(
        f"backed up {settings.buffer_path} to {destination} ({destination.stat().st_size} bytes, quick_check ok)"
    )
