"""The ``device`` commands of the fiscal day and the FN: ``shift open|close|status``, ``x-report``, ``correction``,
``fn`` and ``ack``. Registered on the ``device`` app by :mod:`kkt_emulators.device.cli`."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

import typer

from kkt_emulators.device.cli_common import OPERATION_NAMES, describe, fail, open_device
from kkt_emulators.device.errors import DeviceError
from kkt_emulators.device.models import CorrectionTask, FNStatus, ShiftReport, TaskItem
from kkt_emulators.fiscal import format_rubles

shift_app = typer.Typer(help="Open or close the shift, or show it.", no_args_is_help=True, rich_markup_mode=None)

KeyOption = Annotated[
    str | None,
    typer.Option("--key", help="Idempotency key: a repeated key shows the first document, printing nothing."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class Operation(StrEnum):
    """The settlement a correction corrects (1054)."""

    sale = "sale"
    refund = "refund"


class CorrectionType(StrEnum):
    """Why the correction (1173): on the seller's own initiative, or by the tax service's instruction."""

    self_ = "self"
    instruction = "instruction"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@shift_app.command("open")
def shift_open(ctx: typer.Context, key: KeyOption = None) -> None:
    """Open a shift (prints the shift opening report)."""
    with open_device(ctx) as kkt:
        try:
            doc = kkt.open_shift(idempotency_key=key)
        except DeviceError as exc:
            raise fail(exc) from exc
    typer.echo(describe(doc))


@shift_app.command("close")
def shift_close(ctx: typer.Context, key: KeyOption = None) -> None:
    """Close the open shift (prints the Z report), also an expired one."""
    with open_device(ctx) as kkt:
        try:
            doc = kkt.close_shift(idempotency_key=key)
        except DeviceError as exc:
            raise fail(exc) from exc
    typer.echo(describe(doc))


@shift_app.command("status")
def shift_status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the shift: number, open or closed, opened at, its 24-hour limit, receipts."""
    with open_device(ctx, create=False) as kkt:
        st = kkt.status()
    if as_json:
        data = {
            "shift_number": st.shift_number,
            "shift_open": st.shift_open,
            "opened_at": _iso(st.shift_opened_at),
            "expires_at": _iso(st.shift_expires_at),
            "expired": st.shift_expired,
            "receipts": st.receipts_in_shift,
        }
        typer.echo(json.dumps(data))
        return
    if not st.shift_open:
        typer.echo(f"shift {st.shift_number}: closed")
        return
    assert st.shift_opened_at is not None and st.shift_expires_at is not None
    expired = " — EXPIRED (over 24 h): close it" if st.shift_expired else ""
    typer.echo(
        f"shift {st.shift_number}: open since {st.shift_opened_at:%Y-%m-%d %H:%M:%S}, "
        f"expires {st.shift_expires_at:%Y-%m-%d %H:%M:%S}{expired}; {st.receipts_in_shift} receipts"
    )


def report_dict(report: ShiftReport) -> dict[str, Any]:
    """A shift report as JSON-safe data (operation codes as strings, times in ISO 8601)."""
    return {
        "shift_number": report.shift_number,
        "shift_open": report.shift_open,
        "opened_at": _iso(report.opened_at),
        "expires_at": _iso(report.expires_at),
        "expired": report.expired,
        "receipts": report.receipts,
        "documents": report.documents,
        "totals_by_operation": {str(k): v for k, v in report.totals_by_operation.items()},
        "count_by_operation": {str(k): v for k, v in report.count_by_operation.items()},
        "totals_by_payment": report.totals_by_payment,
    }


def x_report(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The X report: the open shift's counters and totals, without closing it (no fiscal document)."""
    with open_device(ctx, create=False) as kkt:
        try:
            report = kkt.x_report()
        except DeviceError as exc:
            raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(report_dict(report)))
        return
    state = "EXPIRED" if report.expired else "open"
    lines = [
        f"X report · shift {report.shift_number} ({state}) · {report.receipts} receipts · {report.documents} documents"
    ]
    for operation, name in OPERATION_NAMES.items():
        count, total = report.count_by_operation[operation], report.totals_by_operation[operation]
        lines.append(f"  {name + ':':16} {count:4} · {format_rubles(total)}")
    lines.append(
        "  net by payment: " + ", ".join(f"{k} {format_rubles(v)}" for k, v in report.totals_by_payment.items())
    )
    typer.echo("\n".join(lines))


def _item(spec: str) -> TaskItem:
    """``name:price:qty:vat`` (price in rubles, e.g. ``150.00``; VAT rate code 1..12) as a task item."""
    try:
        name, price_text, quantity_text, vat_text = spec.rsplit(":", 3)
        price = Decimal(price_text)
        quantity = Decimal(quantity_text)
        vat_code = int(vat_text)
    except (ValueError, InvalidOperation) as exc:
        raise typer.BadParameter(f"{spec!r}: expected name:price:qty:vat, e.g. 'Кофе:150.00:2:1'") from exc
    price_kop = int((price * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    sum_kop = int((price * quantity * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return TaskItem(name=name, price_kop=price_kop, quantity=quantity, sum_kop=sum_kop, vat_code=vat_code)


def correction(
    ctx: typer.Context,
    operation: Annotated[Operation, typer.Option("--type", help="The settlement corrected (1054).")],
    correction_type: Annotated[
        CorrectionType, typer.Option("--correction-type", help="self: own initiative; instruction: by order (1173).")
    ],
    basis_date: Annotated[
        datetime, typer.Option("--basis-date", formats=["%Y-%m-%d"], help="The corrected settlement's date (1178).")
    ],
    items: Annotated[list[str], typer.Option("--item", help="name:price:qty:vat, repeatable (price in rubles).")],
    basis_number: Annotated[
        str | None, typer.Option("--basis-number", help="The order's number (1179); required by instruction.")
    ] = None,
    cash: Annotated[bool, typer.Option("--cash/--card", help="Paid in cash (default) or electronically.")] = True,
    fiscal_sign: Annotated[
        str | None, typer.Option("--fiscal-sign", help="The wrong receipt's fiscal sign (1192).")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="Idempotency key (default: a new one).")] = None,
) -> None:
    """Print a correction receipt (document type 31), paid in full in cash or by card."""
    task_items = tuple(_item(spec) for spec in items)
    total = sum(item.sum_kop for item in task_items)
    basis: date = basis_date.date()
    task = CorrectionTask(
        operation=1 if operation is Operation.sale else 2,
        items=task_items,
        cash_kop=total if cash else 0,
        electronic_kop=0 if cash else total,
        correction_type=0 if correction_type is CorrectionType.self_ else 1,
        basis_date=basis,
        basis_number=basis_number,
        corrected_fiscal_sign=fiscal_sign,
    )
    with open_device(ctx) as kkt:
        try:
            doc = kkt.print_correction(task, idempotency_key=key or f"cli-correction-{uuid.uuid4().hex}")
        except DeviceError as exc:
            raise fail(exc) from exc
    typer.echo(describe(doc))


def fn_dict(status: FNStatus) -> dict[str, Any]:
    """The FN's status as JSON-safe data."""
    return {
        "fn_number": status.fn_number,
        "validity_date": status.validity_date.isoformat(),
        "ffd_version": status.ffd_version,
        "documents_count": status.documents_count,
        "unsent_count": status.unsent_count,
        "first_unsent_fd_number": status.first_unsent_fd_number,
        "first_unsent_at": _iso(status.first_unsent_at),
        "warnings": list(status.warnings),
        "blocked": status.blocked,
    }


def fn_status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The fiscal drive: validity date, documents, unsent documents, warnings, and whether it refuses documents."""
    with open_device(ctx, create=False) as kkt:
        status = kkt.fn_status()
    if as_json:
        typer.echo(json.dumps(fn_dict(status)))
        return
    unsent = f"{status.unsent_count}"
    if status.first_unsent_at is not None:
        unsent += f" (first: FD {status.first_unsent_fd_number} of {status.first_unsent_at:%Y-%m-%d %H:%M:%S})"
    lines = [
        f"FN number:   {status.fn_number}",
        f"valid until: {status.validity_date:%Y-%m-%d}",
        f"FFD:         {status.ffd_version}",
        f"documents:   {status.documents_count}",
        f"unsent:      {unsent}",
        f"warnings:    {', '.join(status.warnings) or 'none'}",
        f"blocked:     {status.blocked or 'no'}",
    ]
    typer.echo("\n".join(lines))


def ack(
    ctx: typer.Context,
    fd_numbers: Annotated[list[int], typer.Argument(help="FD numbers the OFD acknowledged.", min=1)],
) -> None:
    """Mark documents acknowledged by the OFD (what a real KKT learns from the OFD's receipts)."""
    with open_device(ctx, create=False) as kkt:
        changed = kkt.acknowledge(fd_numbers)
        unsent = kkt.fn_status().unsent_count
    typer.echo(f"acknowledged {changed} of {len(fd_numbers)}; {unsent} unsent")
