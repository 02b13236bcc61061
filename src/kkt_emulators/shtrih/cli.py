"""``kkt-adapter emulate shtrih``: the emulated Shtrih-M KKT on TCP (and a pty), until Ctrl+C or SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="The emulated KKT's directory (default $KKT_DATA_DIR/shtrih-kkt).", show_default=False
    ),
]


def shtrih(
    port: Annotated[int, typer.Option(min=0, help="TCP port to listen on; 0 picks a free one.")] = 7778,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    pty: Annotated[
        Path | None, typer.Option("--pty", help="Also serve on a pseudo-terminal, symlinked at this path.")
    ] = None,
    data_dir: DataDirOption = None,
    ofd_url: Annotated[
        str | None, typer.Option("--ofd-url", help="The emulated FN sends its documents to this mock OFD.")
    ] = None,
    admin_port: Annotated[
        int | None, typer.Option("--admin-port", min=0, help="Serve /admin/faults over HTTP on this port.")
    ] = None,
    vat_mode: Annotated[int, typer.Option("--vat-mode", min=1, max=2, help="Table 17 field 71.")] = 1,
    paper_out: Annotated[bool, typer.Option("--paper-out", help="No paper: printing refused (6Bh).")] = False,
    paper_out_in_close: Annotated[
        int, typer.Option("--paper-out-in-close", min=0, help="Paper ends while the next N closes print.")
    ] = 0,
    lose_answer: Annotated[int, typer.Option("--lose-answer", min=0, help="Execute N requests, answer none.")] = 0,
    nak: Annotated[int, typer.Option("--nak", min=0, help="Answer the next N requests NAK.")] = 0,
    busy: Annotated[int, typer.Option("--busy", min=0, help="Refuse the next N commands with 50h.")] = 0,
    cover_open: Annotated[bool, typer.Option("--cover-open", help="Cover open: printing refused.")] = False,
    shift_over_24h: Annotated[
        bool, typer.Option("--shift-over-24h", help="The open shift is past 24 h (4Eh until the Z report).")
    ] = False,
    fn_expired: Annotated[bool, typer.Option("--fn-expired", help="The FN's life is over (05h).")] = False,
    fn_full: Annotated[bool, typer.Option("--fn-full", help="The FN's archive is full (06h).")] = False,
    ofd_30_days: Annotated[
        bool, typer.Option("--ofd-30-days", help="The FN is blocked by the 30-day rule (15h).")
    ] = False,
) -> None:
    """Run the emulated Shtrih-M KKT (native protocol v1/v2) over an emulated KKT and FN."""
    from kkt_emulators.shtrih import MockShtrihServer

    directory = data_dir if data_dir is not None else Path(os.environ.get("KKT_DATA_DIR") or "data") / "shtrih-kkt"
    server = MockShtrihServer(
        port=port,
        host=host,
        data_dir=directory,
        pty_path=pty,
        ofd_url=ofd_url,
        admin_port=admin_port,
        vat_mode=vat_mode,
    )
    server.faults.program(
        paper_out=paper_out,
        paper_out_in_close=paper_out_in_close,
        lose_answer=lose_answer,
        nak=nak,
        busy=busy,
        cover_open=cover_open,
        shift_over_24h=shift_over_24h,
        fn_expired=fn_expired,
        fn_full=fn_full,
        ofd_30_days=ofd_30_days,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except OSError as exc:
            typer.echo(f"{server.name}: cannot listen on {host}:{port}: {exc}", err=True)
            raise typer.Exit(code=1) from exc
        typer.echo(f"emulated KKT in {server.kkt.state_dir}: FN {server.kkt.registration.fn_number}")
        typer.echo(f"{server.name} listening on {server.url}")
        if pty is not None:
            typer.echo(f"{server.name} serial on {pty}")
        if server.admin is not None:
            typer.echo(f"{server.name} admin on {server.admin.url}")
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("stopped")
