"""``kkt-adapter emulate ...``: run the emulators standalone until Ctrl+C or SIGTERM.

Mounted by the adapter's command line as ``kkt-adapter emulate``; also runnable alone as
``python -m kkt_emulators.cli``. Each server prints ``<name> listening on http://HOST:PORT`` once it answers (so
``--port 0`` is usable from scripts), and ``stopped`` after a clean stop.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Annotated, Any

import typer

from kkt_emulators.emulator import EmulatorServer

app = typer.Typer(help="Run the OFD and ERP emulators standalone.", no_args_is_help=True)

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
