"""The demo's summary: what was printed, what reached the OFD, and the verdict: every sale printed and delivered once.

The figures come from three witnesses that do not share state: the answers the tills got, the adapter's buffer
(``/v1/kkt/buffer/status``) and the mock OFD's own ledger (documents, duplicates, per-FN gaps), plus the mock ERP's
count of heartbeats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx
from rich.console import Group
from rich.table import Table
from rich.text import Text

from kkt_adapter.demo.day import DayResult


class StatsSource(Protocol):
    """A mock server's statistics (the mock OFD's and the mock ERP's ``get_stats``)."""

    def get_stats(self) -> dict[str, Any]: ...


@dataclass(frozen=True, kw_only=True)
class Summary:
    """The day in figures; ``problems`` is empty exactly when every sale was printed once and delivered once."""

    sales: int
    printed: int
    refunds: int
    z_receipts: int | None
    documents: int
    delivered: int
    dlq: int
    ofd_documents: int
    duplicates: int
    fd_range: tuple[int, int] | None
    gaps: list[list[int]]
    heartbeats: int
    outage: tuple[float, float] | None
    elapsed_s: float
    problems: list[str]

    @property
    def ok(self) -> bool:
        """Every sale printed once and delivered once, nothing left behind."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (what ``--json`` prints as the last line)."""
        outage = None if self.outage is None else [round(moment, 2) for moment in self.outage]
        return asdict(self) | {"ok": self.ok, "outage": outage, "elapsed_s": round(self.elapsed_s, 2)}


def summarize(
    day: DayResult, url: str, ofd: StatsSource, erp: StatsSource, *, elapsed_s: float, synced_before: int = 0
) -> Summary:
    """Collect the figures and check them against each other; ``synced_before``: documents delivered in earlier runs."""
    problems = list(day.problems)
    sales = [answer for answer in day.sales if answer is not None]
    receipts = sales + ([day.refund] if day.refund is not None else [])
    numbers = {answer["fiscal_doc"]["fiscal_doc_number"] for answer in receipts}
    if len(numbers) != len(receipts):
        problems.append(f"{len(receipts)} receipts were answered with only {len(numbers)} FD numbers")
    z_receipts = None if day.z_report is None else int(day.z_report["receipts"])
    if z_receipts is not None and z_receipts != len(numbers):
        problems.append(f"the tills got {len(numbers)} receipts, the Z report counts {z_receipts}")

    status = httpx.get(f"{url}/v1/kkt/buffer/status", timeout=10.0).json()
    documents = status["accepted"] + status["pending"] + status["synced"] + status["dlq_size"] - synced_before
    delivered = status["synced"] - synced_before
    if status["dlq_size"]:
        problems.append(f"{status['dlq_size']} documents in the DLQ")
    if delivered != documents:
        problems.append(f"{documents - delivered} of {documents} documents not delivered")

    stats = ofd.get_stats()
    fns: dict[str, dict[str, Any]] = stats["fn"]
    gaps = [gap for fn in fns.values() for gap in fn["gaps"]]
    if stats["unique_documents"] != delivered:
        problems.append(f"the OFD holds {stats['unique_documents']} documents, the buffer delivered {delivered}")
    if stats["duplicates"]:
        problems.append(f"the OFD received {stats['duplicates']} duplicates")
    if gaps:
        problems.append(f"FD numbers missing at the OFD: {gaps}")
    fd_range = None
    if len(fns) == 1:
        (fn,) = fns.values()
        fd_range = (fn["first_fd"], fn["last_fd"])
        missing = sorted(n for n in numbers if not fd_range[0] <= n <= fd_range[1])
        if missing:
            problems.append(f"receipts never delivered: FD {missing[:10]}")
    elif len(fns) > 1:
        problems.append(f"documents of {len(fns)} FNs at the OFD, expected one")

    return Summary(
        sales=len(day.sales),
        printed=len(numbers),
        refunds=0 if day.refund is None else 1,
        z_receipts=z_receipts,
        documents=documents,
        delivered=delivered,
        dlq=status["dlq_size"],
        ofd_documents=stats["unique_documents"],
        duplicates=stats["duplicates"],
        fd_range=fd_range,
        gaps=gaps,
        heartbeats=erp.get_stats()["received"],
        outage=day.outage,
        elapsed_s=elapsed_s,
        problems=problems,
    )


def render(summary: Summary) -> Group:
    """The summary as a table and a verdict, for a rich console."""
    table = Table(title="The day in figures", title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    outage = "none" if summary.outage is None else f"{summary.outage[0]:.1f}–{summary.outage[1]:.1f} s"
    fd_range = "—" if summary.fd_range is None else f"{summary.fd_range[0]}–{summary.fd_range[1]}"
    rows = [
        ("sales sent", summary.sales),
        (
            "receipts printed (sales + refunds)",
            f"{summary.printed} ({summary.printed - summary.refunds} + {summary.refunds})",
        ),
        ("receipts in the Z report", "—" if summary.z_receipts is None else summary.z_receipts),
        ("documents to deliver (with shift reports)", summary.documents),
        ("delivered (synced)", summary.delivered),
        ("dead letters (DLQ)", summary.dlq),
        ("documents at the OFD", summary.ofd_documents),
        ("duplicates at the OFD", summary.duplicates),
        ("FD range at the OFD", fd_range),
        ("gaps in FD numbers", summary.gaps or "none"),
        ("OFD outage", outage),
        ("heartbeats at the ERP", summary.heartbeats),
        ("time", f"{summary.elapsed_s:.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    if summary.ok:
        verdict = Text("OK: every sale printed once and delivered once.", style="bold green")
    else:
        verdict = Text("FAILED:\n  " + "\n  ".join(summary.problems), style="bold red")
    return Group(table, verdict)
