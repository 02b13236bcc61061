"""``python -m bench.compare REF``: the adapter of git ref ``REF`` against the working tree's, alternated, same run.

On a shared machine absolute figures move by tens of percent from one minute to the next; what carries over is a
comparison taken side by side. This runs, ``--rounds`` times, for the ref (its ``src`` extracted with ``git
archive`` into a scratch directory and put first on ``PYTHONPATH``) and then for the working tree: accept with wrk at
8 and 32 connections (print delay 0, sync off) and a drain of pending receipts to an in-process mock OFD, and prints
the adapter process's CPU per receipt beside the rates. Nothing is written to the results or to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import psutil

from bench.common import adapter_env, sale_body, workdir
from bench.drain import _poll
from bench.wrk import run_wrk
from kkt_adapter.testing.process import AdapterProcess

ROOT = Path(__file__).resolve().parent.parent
PATH = "/v1/kkt/receipt"


def _cpu_seconds(pid: int) -> float:
    return float(sum(psutil.Process(pid).cpu_times()[:2]))


def accept(env: dict[str, str], connections: int, seconds: float) -> str:
    """Accept at ``connections`` with wrk: rate, p99 and the adapter's CPU per receipt."""
    body = json.dumps(sale_body())
    with workdir("compare") as tmp, AdapterProcess(tmp / "data", env=adapter_env(**env)) as adapter:
        assert adapter.pid is not None
        run_wrk(adapter.url, PATH, body, connections=4, seconds=1)  # warm-up
        before = _cpu_seconds(adapter.pid)
        result = run_wrk(adapter.url, PATH, body, connections=connections, seconds=seconds)
        cpu = _cpu_seconds(adapter.pid) - before
    answered = max(1, result.requests - result.errors)
    return (
        f"accept c{connections}: {result.rps:,.0f}/s p99 {result.p99_ms:.1f} ms "
        f"cpu {1000 * cpu / answered:.2f} ms/receipt errors {result.errors}"
    )


def drain(env: dict[str, str], count: int) -> str:
    """``count`` pending receipts delivered to an in-process mock OFD: rate and the adapter's CPU per receipt."""
    from kkt_emulators.ofd import MockOFDServer

    with workdir("compare") as tmp:
        data = tmp / "data"
        data.mkdir()
        # In a process of the compared adapter's own code, so that the buffer has its schema.
        path = str(data / "buffer.sqlite3")
        script = (
            "from pathlib import Path; from bench.preload import preload; "
            f"preload(Path({path!r}), rows={count}, all_pending=True)"
        )
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=os.environ | env, check=True)
        with MockOFDServer(port=0) as ofd:
            settings = adapter_env(KKT_SYNC_ENABLED="true", KKT_OFD_API_URL=ofd.url, KKT_HLC_SYNC_INTERVAL="0.2")
            with AdapterProcess(data, env=settings | env) as adapter:
                assert adapter.pid is not None
                before = _cpu_seconds(adapter.pid)
                rate, drained, _ = _poll(adapter.url, count, 180.0)
                cpu = _cpu_seconds(adapter.pid) - before
    return f"drain: {rate:,.0f}/s cpu {1000 * cpu / max(1, drained):.2f} ms/receipt ({drained} of {count})"


def _extract(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("ref", help="the git ref to compare the working tree with, e.g. main")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0, help="per accept level")
    parser.add_argument("--receipts", type=int, default=4000, help="pending receipts to drain")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kkt-bench-ref-") as scratch:
        sides = {args.ref: {"PYTHONPATH": str(_extract(args.ref, Path(scratch)))}, "working tree": {}}
        for round_number in range(1, args.rounds + 1):
            for name, env in sides.items():
                figures = [accept(env, 8, args.seconds), accept(env, 32, args.seconds), drain(env, args.receipts)]
                load = os.getloadavg()[0]
                print(f"round {round_number} {name}: " + " | ".join(figures) + f" | load {load:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
