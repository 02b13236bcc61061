"""``python -m bench [--quick]``: run every figure group, write the results, refresh BENCHMARKS.md and the plots.

A group that cannot run here (a part it measures is not in the tree yet) is skipped with its reason, which the
results and the table record. The emulator figures come from ``bench.emulators`` when that module exists.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import abuse, accept, atol, devices, drain, memory, plots, queue, report, scaling, scrape, shtrih, status
from bench.common import Figure, Skipped, machine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
GroupRun = Callable[[bool], tuple[list[Figure], dict[str, Any]]]


def _emulators(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    try:
        module = importlib.import_module("bench.emulators")
    except ModuleNotFoundError as exc:
        if exc.name != "bench.emulators":
            raise
        raise Skipped("bench/emulators.py is not in this tree yet (the emulator figures land with it)") from exc
    rows: list[dict[str, Any]] = module.run(quick)
    figures = []
    notes: dict[str, Any] = {}
    for row in rows:
        fields = {key: row.get(key) for key in Figure.__dataclass_fields__}
        fields["met"] = row.get("met", row.get("pass"))  # the module may judge its goals itself
        figures.append(Figure(**fields))
        notes.update(row.get("notes") or {})
    return figures, notes


GROUPS: dict[str, GroupRun] = {
    "accept": accept.run,
    "atol": atol.run,
    "shtrih": shtrih.run,
    "devices": devices.run,
    "drain": drain.run,
    "emulators": _emulators,
    "scaling": scaling.run,
    "memory": memory.run,
    "ofd_memory": memory.run_ofd,
    "queue": queue.run,
    "status": status.run,
    "scrape": scrape.run,
    "abuse": abuse.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts, same figures, under a minute")
    parser.add_argument("--only", action="append", choices=sorted(GROUPS), help="run only these groups")
    parser.add_argument(
        "--redraw", action="store_true", help="measure nothing: redraw the table and plots from the latest results"
    )
    args = parser.parse_args(argv)
    if args.redraw:
        return _publish(json.loads(RESULTS.read_text(encoding="utf-8")))
    results: dict[str, Any] = {
        "machine": machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": _command(args.quick, args.only),
        "figures": [],
        "skipped": {},
        "notes": {},
    }
    failed = False
    started = time.perf_counter()
    for name, group in GROUPS.items():
        if args.only and name not in args.only:
            continue
        began = time.perf_counter()
        try:
            figures, notes = group(args.quick)
        except Skipped as skipped:
            results["skipped"][name] = str(skipped)
            print(f"{name}: skipped: {skipped}", flush=True)
            continue
        except Exception:
            failed = True
            results["skipped"][name] = "failed: " + traceback.format_exc(limit=1).strip().splitlines()[-1]
            traceback.print_exc()
            continue
        results["figures"] += [figure.as_dict() for figure in figures]
        results["notes"][name] = notes | {"group_seconds": round(time.perf_counter() - began, 1)}
        for figure in figures:
            verdict = "" if figure.met is None else (" pass" if figure.met else " MISS")
            shown = "—" if figure.value is None else f"{figure.value:,.2f}"
            print(f"{figure.name:28} {shown:>12} {figure.unit}{verdict}", flush=True)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    if args.only:
        # A partial run must not replace the full table: its results go to a file of their own.
        partial = RESULTS.with_name("only-" + "-".join(sorted(args.only)) + ".json")
        report.write_json(partial, results)
        print(f"results: {partial.relative_to(ROOT)} (BENCHMARKS.md and the plots are left as they were)")
    else:
        report.write_json(RESULTS, results)
        _publish(results)
    print(f"done in {results['total_seconds']} s", flush=True)
    return 1 if failed else 0


def _command(quick: bool, only: list[str] | None) -> str:
    """How this run was started, as the results record it (a partial run names its groups)."""
    if not only:
        return "make bench-quick" if quick else "make bench"
    groups = " ".join(f"--only {name}" for name in only)
    return f".venv/bin/python -m bench {groups}" + (" --quick" if quick else "")


def _publish(results: dict[str, Any]) -> int:
    """Refresh the table in BENCHMARKS.md and the plots from ``results``."""
    report.update_markdown(ROOT / "BENCHMARKS.md", results)
    for path in plots.draw(results["figures"], ROOT / "docs" / "plots"):
        print(f"plot: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
