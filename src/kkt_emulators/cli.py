"""``kkt-adapter emulate ...``: run the emulators standalone until Ctrl+C or SIGTERM.

Mounted by the adapter's command line as ``kkt-adapter emulate``; also runnable alone as
``python -m kkt_emulators.cli``. Each server prints ``<name> listening on http://HOST:PORT`` once it answers (so
``--port 0`` is usable from scripts), and ``stopped`` after a clean stop.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from kkt_emulators.emulator import EmulatorServer
from kkt_emulators.shtrih.cli import shtrih as shtrih_command

app = typer.Typer(
    help="Run the OFD, ERP, ATOL and Shtrih-M emulators standalone.", no_args_is_help=True, rich_markup_mode=None
)

HostOption = Annotated[str, typer.Option(help="Address to listen on (loopback by default).")]
PortOption = Annotated[int, typer.Option(min=0, help="Port to listen on; 0 picks a free one.")]
ValidateOption = Annotated[bool, typer.Option("--validate", help="Check fiscal documents; refuse bad ones.")]


@dataclass(frozen=True, kw_only=True)
class FaultFlags:
    """The fault program given on the command line (each field a flag, its default a healthy server)."""

    fail_count: int = 0
    permanent_failure: bool = False
    fail_every: int = 0
    latency_ms: float = 0
    jitter_ms: float = 0
    rate_limit: float | None = None
    lose_reply: int = 0
    connection_reset: int = 0
    down_for: float = 0

    def apply(self, server: EmulatorServer[Any]) -> None:
        """Program ``server``'s faults (before it starts, so that its first request meets them)."""
        server.set_failure_count(self.fail_count)
        server.set_permanent_failure(self.permanent_failure)
        server.set_fail_every(self.fail_every)
        server.set_latency(self.latency_ms, self.jitter_ms)
        server.set_rate_limit(self.rate_limit)
        server.set_lose_reply(self.lose_reply)
        server.set_connection_reset(self.connection_reset)
        server.set_down_for(self.down_for)


#: The command-line option of each :class:`FaultFlags` field.
FAULT_OPTIONS: dict[str, Any] = {
    "fail_count": Annotated[int, typer.Option("--fail-count", min=0, help="Answer the first N requests with 503.")],
    "permanent_failure": Annotated[bool, typer.Option("--permanent-failure", help="Answer every request with 503.")],
    "fail_every": Annotated[int, typer.Option("--fail-every", min=0, help="Answer every N-th request with 503.")],
    "latency_ms": Annotated[float, typer.Option("--latency-ms", min=0, help="Delay every request by MS milliseconds.")],
    "jitter_ms": Annotated[
        float, typer.Option("--jitter-ms", min=0, help="Add up to MS random milliseconds of delay.")
    ],
    "rate_limit": Annotated[
        float | None, typer.Option("--rate-limit", min=0, help="Answer 429 with Retry-After: S to every request.")
    ],
    "lose_reply": Annotated[
        int, typer.Option("--lose-reply", min=0, help="Process N requests, then drop the connection.")
    ],
    "connection_reset": Annotated[
        int, typer.Option("--connection-reset", min=0, help="Reset the connection of N requests.")
    ],
    "down_for": Annotated[float, typer.Option("--down-for", min=0, help="Answer 503 for the first S seconds.")],
}


def with_fault_flags(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the fault flags as options; it receives them gathered in one ``faults: FaultFlags``.

    typer reads a command's options from its signature, so the wrapper shows the command's own parameters (all but
    ``faults``) followed by one keyword parameter per :class:`FaultFlags` field.
    """
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "faults"]
    fields = dataclasses.fields(FaultFlags)
    flags = [
        inspect.Parameter(
            field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=FAULT_OPTIONS[field.name]
        )
        for field in fields
    ]

    @functools.wraps(command)
    def with_faults(**options: Any) -> None:
        faults = FaultFlags(**{field.name: options.pop(field.name) for field in fields})
        command(**options, faults=faults)

    parameters = [*own, *flags]
    with_faults.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    with_faults.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_faults


def serve_until_signalled(servers: Sequence[EmulatorServer[Any]]) -> None:
    """Start ``servers``, print where they listen, and stop them all on SIGINT or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for server in servers:
            try:
                server.start()
            except OSError as exc:
                typer.echo(f"{server.name}: cannot listen on {server.host}:{server.port}: {exc}", err=True)
                raise typer.Exit(code=1) from exc
            typer.echo(f"{server.name} listening on {server.url}")
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
    finally:
        for server in servers:
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("stopped")


@app.command()
@with_fault_flags
def ofd(
    port: PortOption = 9000, host: HostOption = "127.0.0.1", validate: ValidateOption = False, *, faults: FaultFlags
) -> None:
    """Run the mock OFD (POST /ofd/v1/receipt) with the given fault program."""
    from kkt_emulators.ofd import MockOFDServer

    server = MockOFDServer(port=port, host=host, validate=validate)
    faults.apply(server)
    serve_until_signalled([server])


@app.command()
@with_fault_flags
def odoo(port: PortOption = 8069, host: HostOption = "127.0.0.1", *, faults: FaultFlags) -> None:
    """Run the mock ERP heartbeat endpoint (POST /api/v1/kkt/heartbeat) with the given fault program."""
    from kkt_emulators.odoo import MockOdooServer

    server = MockOdooServer(port=port, host=host)
    faults.apply(server)
    serve_until_signalled([server])


class BlockMode(StrEnum):
    """Whether a blocked job's document is made before the connection is lost."""

    printed = "printed"
    not_printed = "not-printed"


def _atol_data_dir() -> Path:
    """The emulated KKT's directory by default: ``$KKT_DATA_DIR/atol-kkt`` (``./data/atol-kkt`` without it)."""
    return Path(os.environ.get("KKT_DATA_DIR") or "data") / "atol-kkt"


@app.command()
@with_fault_flags
def atol(
    port: PortOption = 16732,
    host: HostOption = "127.0.0.1",
    ofd_url: Annotated[
        str | None, typer.Option("--ofd-url", help="The emulated FN sends its documents to this mock OFD.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="The emulated KKT's directory (default $KKT_DATA_DIR/atol-kkt).", show_default=False
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Require HTTP Basic auth with this user.")] = None,
    password: Annotated[str | None, typer.Option("--password", help="The Basic auth password.")] = None,
    print_delay_ms: Annotated[int, typer.Option("--print-delay-ms", min=0, help="Print delay per document.")] = 0,
    ofd_interval: Annotated[float, typer.Option("--ofd-interval", min=0.01, help="Seconds between OFD passes.")] = 1.0,
    in_progress: Annotated[
        int, typer.Option("--in-progress", min=0, help="The next job reads inProgress for N GETs.")
    ] = 0,
    lose_post: Annotated[int, typer.Option("--lose-post", min=0, help="Create N jobs, then drop the answer.")] = 0,
    lose_get: Annotated[int, typer.Option("--lose-get", min=0, help="Read N jobs, then drop the answer.")] = 0,
    block: Annotated[
        BlockMode | None, typer.Option("--block", help="The next printing job goes blocked, its document made or not.")
    ] = None,
    block_polls: Annotated[
        int, typer.Option("--block-polls", min=0, help="GETs a block lasts (0: until cleared).")
    ] = 1,
    paper_out: Annotated[bool, typer.Option("--paper-out", help="No paper: printing tasks fail (44).")] = False,
    cover_open: Annotated[bool, typer.Option("--cover-open", help="Cover open: printing tasks fail (45).")] = False,
    disconnect: Annotated[
        bool, typer.Option("--disconnect", help="Device not connected: POST is answered 409.")
    ] = False,
    *,
    faults: FaultFlags,
) -> None:
    """Run the emulated ATOL Web Requests server (/api/v2/requests) over an emulated KKT, with the given faults."""
    from kkt_emulators.atol import MockAtolServer

    server = MockAtolServer(
        port=port,
        host=host,
        data_dir=data_dir if data_dir is not None else _atol_data_dir(),
        user=user,
        password=password,
        ofd_url=ofd_url,
        ofd_interval_s=ofd_interval,
        print_delay_ms=print_delay_ms,
    )
    faults.apply(server)
    program = server.faults
    program.in_progress(in_progress)
    program.lose_reply("post", lose_post)
    program.lose_reply("get", lose_get)
    if block is not None:
        program.block(printed=block is BlockMode.printed, polls=block_polls)
    if paper_out:
        program.paper_out()
    else:  # the paper sensor is the device's, kept in its directory: each run starts from its own flags
        server.kkt.set_fault("paper_out", False)
    if cover_open:
        program.cover_open()
    if disconnect:
        program.disconnect()
    typer.echo(f"emulated KKT in {server.kkt.state_dir}: FN {server.kkt.registration.fn_number}")
    serve_until_signalled([server])


app.command(name="shtrih")(shtrih_command)


@app.command(name="all")
def all_(
    ofd_port: Annotated[int, typer.Option(min=0, help="Mock OFD port; 0 picks a free one.")] = 9000,
    odoo_port: Annotated[int, typer.Option(min=0, help="Mock Odoo port; 0 picks a free one.")] = 8069,
    host: HostOption = "127.0.0.1",
    validate: Annotated[bool, typer.Option("--validate", help="The OFD checks fiscal documents.")] = False,
) -> None:
    """Run the mock OFD and the mock ERP together, both healthy (program faults over their admin APIs)."""
    from kkt_emulators.odoo import MockOdooServer
    from kkt_emulators.ofd import MockOFDServer

    serve_until_signalled(
        [MockOFDServer(port=ofd_port, host=host, validate=validate), MockOdooServer(port=odoo_port, host=host)]
    )


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="kkt-emulators")
