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
    ax.plot(LEVELS, [values[f"accept_p50_ms_c{c}"] for c in LEVELS], "o-", label="p50 latency")
    ax.plot(LEVELS, [values[f"accept_p99_ms_c{c}"] for c in LEVELS], "s--", label="p99 latency")
    ax.set_xscale("log", base=2)
    ax.set_xticks(LEVELS, [str(c) for c in LEVELS])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("accept latency, ms")
    rps = ax.twinx()
    rps.plot(LEVELS, [values[f"accept_rps_c{c}"] for c in LEVELS], "^:", color="tab:green", label="receipts/s")
    rps.set_ylabel("receipts/s")
    rps.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()[0] + rps.get_legend_handles_labels()[0]
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="upper left")
    ax.set_title("POST /v1/kkt/receipt: latency and throughput vs concurrency")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _throughput_vs_size(values: dict[str, float], path: Path) -> Path:
    import matplotlib.pyplot as plt

    present = [(label, size) for label, size in SIZES if f"accept_rps_c8_{label}" in values]
    sizes = [size for _, size in present]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(sizes, [values[f"accept_rps_c8_{label}"] for label, _ in present], "o-", label="accept receipts/s (8)")
    ax.set_xscale("log")
    ax.set_xlabel("receipts already in the buffer")
    ax.set_ylabel("receipts/s")
    ax.set_ylim(bottom=0)
    latency = ax.twinx()
    for metric, style in (("status_p50_ms", "s--"), ("accept_p50_ms", "^:")):
        latency.plot(sizes, [values[f"{metric}_{label}"] for label, _ in present], style, label=f"{metric} (1 client)")
    latency.set_ylabel("p50 latency, ms")
    latency.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()[0] + latency.get_legend_handles_labels()[0]
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="lower left")
    ax.set_title("Throughput and latency vs buffer size")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
