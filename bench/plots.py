"""The two plots of ``BENCHMARKS.md``, drawn from the figures alone (matplotlib, Agg: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LEVELS = (1, 8, 32)
SIZES = (("1k", 1_000), ("100k", 100_000), ("1m", 1_000_000))


def draw(figures: list[dict[str, Any]], directory: Path) -> list[Path]:
    """Draw whichever plots the figures allow; return the files written."""
    # Imported here, not at the top: spawned load-generator processes import the runner and need no matplotlib.
    import matplotlib

    matplotlib.use("Agg")
    values = {f["name"]: f["value"] for f in figures if f.get("value") is not None}
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if all(f"accept_p50_ms_c{c}" in values for c in LEVELS):
        written.append(_latency_vs_concurrency(values, directory / "accept_latency_vs_concurrency.png"))
    if any(f"accept_rps_c8_{label}" in values for label, _ in SIZES):
        written.append(_throughput_vs_size(values, directory / "throughput_vs_buffer_size.png"))
    return written


def _latency_vs_concurrency(values: dict[str, float], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(LEVELS, [values[f"accept_p50_ms_c{c}"] for c in LEVELS], "o-", color="tab:blue", label="p50 latency")
    ax.plot(LEVELS, [values[f"accept_p99_ms_c{c}"] for c in LEVELS], "s--", color="tab:orange", label="p99 latency")
    ax.set_xscale("log", base=2)
    ax.set_xticks(LEVELS, [str(c) for c in LEVELS])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("accept latency, ms")
    rps = ax.twinx()
    rps.plot(LEVELS, [values[f"accept_rps_c{c}"] for c in LEVELS], "^:", color="tab:green", label="receipts/s")
    rps.set_ylabel("receipts/s")
    rps.set_ylim(bottom=0)
    ax.set_title("POST /v1/kkt/receipt: latency and throughput vs concurrency")
    return _save(fig, [ax, rps], path)


def _throughput_vs_size(values: dict[str, float], path: Path) -> Path:
    import matplotlib.pyplot as plt

    present = [(label, size) for label, size in SIZES if f"accept_rps_c8_{label}" in values]
    sizes = [size for _, size in present]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    throughput = [values[f"accept_rps_c8_{label}"] for label, _ in present]
    ax.plot(sizes, throughput, "o-", color="tab:green", label="accepts/s, 8 clients")
    ax.set_xscale("log")
    ax.set_xlabel("receipts already in the buffer")
    ax.set_ylabel("receipts/s")
    ax.set_ylim(bottom=0)
    latency = ax.twinx()
    for metric, style, color, name in (
        ("status_p50_ms", "s--", "tab:blue", "status p50, 1 client"),
        ("accept_p50_ms", "^:", "tab:orange", "accept p50, 1 client"),
    ):
        series = [values[f"{metric}_{label}"] for label, _ in present]
        latency.plot(sizes, series, style, color=color, label=name)
    latency.set_ylabel("p50 latency, ms")
    latency.set_ylim(bottom=0)
    ax.set_title("Throughput and latency vs buffer size")
    return _save(fig, [ax, latency], path)


def _save(fig: Any, axes: list[Any], path: Path) -> Path:
    """One legend for both y axes, under the plot where it hides no line."""
    import matplotlib.pyplot as plt

    lines = [line for ax in axes for line in ax.get_legend_handles_labels()[0]]
    fig.legend(lines, [str(line.get_label()) for line in lines], loc="lower center", ncol=3, frameon=False)
    axes[0].grid(True, alpha=0.3)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
