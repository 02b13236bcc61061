"""``kkt-adapter emulate ...``: run the emulators standalone until Ctrl+C or SIGTERM.

Mounted by the adapter's command line as ``kkt-adapter emulate``; also runnable alone as
``python -m kkt_emulators.cli``. Each server prints ``<name> listening on http://HOST:PORT`` once it answers (so
``--port 0`` is usable from scripts), and ``stopped`` after a clean stop.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Annotated

import typer

from kkt_emulators.emulator import EmulatorServer

app = typer.Typer(help="Run the OFD and ERP emulators standalone.", no_args_is_help=True)

HostOption = Annotated[str, typer.Option(help="Address to listen on (loopback by default).")]
FailCount = Annotated[int, typer.Option("--fail-count", min=0, help="Answer the first N requests with 503.")]
Permanent = Annotated[bool, typer.Option("--permanent-failure", help="Answer every request with 503.")]
FailEvery = Annotated[int, typer.Option("--fail-every", min=0, help="Answer every N-th request with 503.")]
LatencyMs = Annotated[float, typer.Option("--latency-ms", min=0, help="Delay every request by MS milliseconds.")]
JitterMs = Annotated[float, typer.Option("--jitter-ms", min=0, help="Add up to MS random milliseconds of delay.")]
RateLimit = Annotated[
    float | None, typer.Option("--rate-limit", min=0, help="Answer 429 with Retry-After: S to every request.")
]
LoseReply = Annotated[int, typer.Option("--lose-reply", min=0, help="Process N requests, then drop the connection.")]
ConnReset = Annotated[int, typer.Option("--connection-reset", min=0, help="Reset the connection of N requests.")]
DownFor = Annotated[float, typer.Option("--down-for", min=0, help="Answer 503 for the first S seconds.")]


def _program(
    server: EmulatorServer,
    *,
    fail_count: int = 0,
    permanent_failure: bool = False,
    fail_every: int = 0,
    latency_ms: float = 0,
    jitter_ms: float = 0,
    rate_limit: float | None = None,
    lose_reply: int = 0,
    connection_reset: int = 0,
    down_for: float = 0,
) -> None:
    server.set_failure_count(fail_count)
    server.set_permanent_failure(permanent_failure)
    server.set_fail_every(fail_every)
    server.set_latency(latency_ms, jitter_ms)
    server.set_rate_limit(rate_limit)
    server.set_lose_reply(lose_reply)
    server.set_connection_reset(connection_reset)
    server.set_down_for(down_for)


def serve_until_signalled(servers: Sequence[EmulatorServer]) -> None:
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
def ofd(
    port: Annotated[int, typer.Option(min=0, help="Port to listen on; 0 picks a free one.")] = 9000,
    host: HostOption = "127.0.0.1",
    validate: Annotated[bool, typer.Option("--validate", help="Check fiscal documents; refuse bad ones.")] = False,
    fail_count: FailCount = 0,
    permanent_failure: Permanent = False,
    fail_every: FailEvery = 0,
    latency_ms: LatencyMs = 0,
    jitter_ms: JitterMs = 0,
    rate_limit: RateLimit = None,
    lose_reply: LoseReply = 0,
    connection_reset: ConnReset = 0,
    down_for: DownFor = 0,
) -> None:
    """Run the mock OFD (POST /ofd/v1/receipt) with the given fault program."""
    from kkt_emulators.ofd import MockOFDServer

    server = MockOFDServer(port=port, host=host, validate=validate)
    _program(
        server,
        fail_count=fail_count,
        permanent_failure=permanent_failure,
        fail_every=fail_every,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        rate_limit=rate_limit,
        lose_reply=lose_reply,
        connection_reset=connection_reset,
        down_for=down_for,
    )
    serve_until_signalled([server])


@app.command()
def odoo(
    port: Annotated[int, typer.Option(min=0, help="Port to listen on; 0 picks a free one.")] = 8069,
    host: HostOption = "127.0.0.1",
    fail_count: FailCount = 0,
    permanent_failure: Permanent = False,
    fail_every: FailEvery = 0,
    latency_ms: LatencyMs = 0,
    jitter_ms: JitterMs = 0,
    rate_limit: RateLimit = None,
    lose_reply: LoseReply = 0,
    connection_reset: ConnReset = 0,
    down_for: DownFor = 0,
) -> None:
    """Run the mock ERP heartbeat endpoint (POST /api/v1/kkt/heartbeat) with the given fault program."""
    from kkt_emulators.odoo import MockOdooServer

    server = MockOdooServer(port=port, host=host)
    _program(
        server,
        fail_count=fail_count,
        permanent_failure=permanent_failure,
        fail_every=fail_every,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        rate_limit=rate_limit,
        lose_reply=lose_reply,
        connection_reset=connection_reset,
        down_for=down_for,
    )
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
