"""Writing the results: ``bench/results/latest.json`` and the table between markers in ``BENCHMARKS.md``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TABLE_START = "<!-- bench:table:start -->"
TABLE_END = "<!-- bench:table:end -->"


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _verdict(figure: dict[str, Any]) -> str:
    met = figure.get("met")
    if met is None:
        return "" if not figure.get("goal") else "?"
    return "pass" if met else "**miss**"


def table(results: dict[str, Any]) -> str:
    """The results as Markdown: where and when they were measured, then one row per figure."""
    m = results["machine"]
    lines = [
        f"Measured {results['date']} by `{results['command']}` on {m['cpu_count']} × {m['cpu_model']}, "
        f"Python {m['python']}, SQLite {m['sqlite']}, {m['disk']['filesystem']} disk, "
        f"load average {m.get('load_average_1m_at_start')} at start.",
        "",
        "| figure | value | unit | reference | reference value | goal | result | Python client |",
        "|---|---:|---|---|---:|---|---|---:|",
    ]
    for f in results["figures"]:
        lines.append(
            f"| `{f['name']}` | {_number(f.get('value'))} | {f.get('unit', '')} | {f.get('reference') or ''} "
            f"| {_number(f.get('reference_value'))} | {f.get('goal') or ''} | {_verdict(f)} "
            f"| {'' if f.get('python_client') is None else _number(f['python_client'])} |"
        )
    skipped = results.get("skipped", {})
    if skipped:
        lines += ["", "Not measured in this run:", ""]
        lines += [f"- **{group}**: {reason}" for group, reason in skipped.items()]
    return "\n".join(lines)


def update_markdown(path: Path, results: dict[str, Any]) -> None:
    """Replace the text between the markers with a fresh table; the prose around them is kept."""
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{TABLE_START}\n{TABLE_END}\n"
    if TABLE_START not in text or TABLE_END not in text:
        text = text.rstrip("\n") + f"\n\n## Results\n\n{TABLE_START}\n{TABLE_END}\n"
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    path.write_text(f"{head}{TABLE_START}\n{table(results)}\n{TABLE_END}{tail}", encoding="utf-8")
