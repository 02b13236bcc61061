"""The store day ``kkt-adapter demo`` plays over HTTP: tills selling at once, an OFD outage, a refund, the Z report.

Each till is a thread with its own HTTP client and sends its sales one after another, as a POS does, under keys of
its own; a 409 or 503 or a lost answer is retried with the same key, as the API asks of its clients. Once a third of
the sales are printed the mock OFD goes down for ``outage_s`` seconds: the tills keep selling, the receipts wait in
the buffer, and the sync worker delivers them when the OFD is back. Then a customer returns their purchase (the
refund names its sale, once the sale has reached the OFD), the Z report closes the shift, and the day ends when the
buffer has delivered everything.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kkt_adapter.testing import bodies

#: (name, price, sold by weight) — a small grocery.
CATALOGUE = [
    ("Хлеб бородинский", "54.90", False),
    ("Молоко 3,2%, 1 л", "89.90", False),
    ("Кофе в зёрнах, 250 г", "459.00", False),
    ("Вода питьевая, 0,5 л", "39.00", False),
    ("Шоколад горький", "119.99", False),
    ("Яблоки", "129.50", True),
    ("Сыр российский", "749.00", True),
]
KOPECK = Decimal("0.01")
TRIES = 10
RETRY_PAUSE_S = 0.2
POLL_S = 0.1


class OFDSwitch(Protocol):
    """The one fault program the day uses: the OFD down, and back."""

    def set_permanent_failure(self, enabled: bool = True) -> None: ...


@dataclass(frozen=True, kw_only=True)
class DayPlan:
    """How many sales from how many tills, how long the OFD is down, how long delivery may take at the end."""

    sales: int
    tills: int
    outage_s: float
    delivery_timeout_s: float
    seed: int = 54


@dataclass
class DayResult:
    """What happened: every answer the tills got, the refund, the Z report, when the OFD was down."""

    sales: list[dict[str, Any] | None]
    refund: dict[str, Any] | None = None
    z_report: dict[str, Any] | None = None
    outage: tuple[float, float] | None = None
    problems: list[str] = field(default_factory=list)


def sale_body(rng: random.Random, till: int) -> dict[str, Any]:
    """One sale of one to three lines, paid in cash or by card, balanced to the kopeck."""
    items, total = [], Decimal(0)
    for name, price, by_weight in rng.sample(CATALOGUE, rng.randint(1, 3)):
        quantity = Decimal(rng.randint(200, 1500)) / 1000 if by_weight else Decimal(rng.randint(1, 3))
        total += (Decimal(price) * quantity).quantize(KOPECK, rounding=ROUND_HALF_UP)
        measure = {"measure": "kg"} if by_weight else {}
        items.append(bodies.item(name, price, str(quantity), vat_rate=10, **measure))
    return bodies.sale(
        str(total),
        items=items,
        paid_by=rng.choice(["cash", "card"]),
        pos_id=f"POS-{till + 1:03d}",
        cashier={"name": f"Кассир {till + 1}"},
    )


def post_until_printed(http: httpx.Client, path: str, key: str, body: dict[str, Any]) -> dict[str, Any] | str:
    """POST until the document is printed, resending the same key after 409, 503 or a lost answer; else why not."""
    why = "no answer"
    for _ in range(TRIES):
        try:
            response = http.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:
            why = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 200:
                answer: dict[str, Any] = response.json()
                return answer
            why = f"{response.status_code} {response.text[:200]}"
            if response.status_code not in (409, 503):
                return why
        time.sleep(RETRY_PAUSE_S)
    return why


class _Outage:
    """Takes the OFD down once ``begin`` is set, for ``seconds``, then back; remembers when (since ``t0``)."""

    def __init__(self, ofd: OFDSwitch, seconds: float, *, t0: float, log: Callable[[str], None]) -> None:
        self.begin, self.cancel = threading.Event(), threading.Event()
        self.window: tuple[float, float] | None = None
        self._ofd, self._seconds, self._t0, self._log = ofd, seconds, t0, log

    def run(self) -> None:
        while not self.begin.wait(POLL_S):
            if self.cancel.is_set():
                return
        if self.cancel.is_set():
            return
        self._ofd.set_permanent_failure(True)
        began = time.monotonic() - self._t0
        self._log(f"[red]OFD down[/] at {began:.1f} s: every document gets 503 for {self._seconds:g} s")
        try:
            self.cancel.wait(self._seconds)
        finally:
            self._ofd.set_permanent_failure(False)
        ended = time.monotonic() - self._t0
        self.window = (began, ended)
        self._log(f"[green]OFD back[/] at {ended:.1f} s: the buffer drains")


class _Day:
    """One played day; ``play`` below is its only user."""

    def __init__(self, url: str, ofd: OFDSwitch, plan: DayPlan, progress: Progress) -> None:
        self.url, self.plan, self.progress = url, plan, progress
        self.run_id = uuid.uuid4().hex[:8]
        self.t0 = time.monotonic()
        rng = random.Random(plan.seed)
        self.bodies = [sale_body(rng, i % plan.tills) for i in range(plan.sales)]
        self.result = DayResult(sales=[None] * plan.sales)
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._printed = 0
        self.outage = _Outage(ofd, plan.outage_s, t0=self.t0, log=progress.console.log)
        self.sales_bar = progress.add_task("sales printed", total=plan.sales)
        self.delivery_bar = progress.add_task("delivered to the OFD", total=None)

    def till(self, till: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30.0) as http:
            for i in range(till, self.plan.sales, self.plan.tills):
                if self.stop.is_set():
                    return
                answer = post_until_printed(http, "/v1/kkt/receipt", f"demo-{self.run_id}-sale-{i}", self.bodies[i])
                with self._lock:
                    if isinstance(answer, str):
                        self.result.problems.append(f"sale {i} not printed: {answer}")
                    else:
                        self.result.sales[i] = answer
                        self._printed += 1
                    if self._printed >= max(1, self.plan.sales // 3):
                        self.outage.begin.set()
                self.progress.advance(self.sales_bar)

    def show_delivery(self, http: httpx.Client) -> dict[str, Any]:
        status: dict[str, Any] = http.get("/v1/kkt/buffer/status").json()
        documents = status["accepted"] + status["pending"] + status["synced"] + status["dlq_size"]
        down = self.outage.begin.is_set() and self.outage.window is None and self.plan.outage_s > 0
        network = "[red]OFD down[/]" if down else status["network_status"]
        self.progress.update(
            self.delivery_bar,
            total=documents,
            completed=status["synced"],
            description=f"delivered to the OFD ({network})",
        )
        return status

    def refund_and_close(self, http: httpx.Client) -> None:
        sold = self.result.sales[0]
        if sold is None:
            self.result.problems.append("the first sale was not printed: nothing to refund")
        else:
            check = {"original_fiscal_doc_id": sold["receipt_id"]}
            deadline = time.monotonic() + self.plan.delivery_timeout_s
            # The ERP's rule: refund a sale once it has reached the OFD (the adapter itself would print it anyway).
            while http.post("/v1/pos/refund", json=check).status_code != 200 and time.monotonic() < deadline:
                self.show_delivery(http)
                time.sleep(POLL_S)
            body = self.bodies[0] | {"type": "refund", "original_receipt_id": sold["receipt_id"]}
            answer = post_until_printed(http, "/v1/kkt/receipt", f"demo-{self.run_id}-refund-0", body)
            if isinstance(answer, str):
                self.result.problems.append(f"the refund was not printed: {answer}")
            else:
                self.result.refund = answer
                fd = answer["fiscal_doc"]["fiscal_doc_number"]
                self.progress.console.log(f"refund of sale 0 printed: FD {fd}, tied to {sold['receipt_id']}")
        z = http.post("/v1/kkt/z_report", headers={"Idempotency-Key": f"demo-{self.run_id}-z"})
        if z.status_code == 200:
            self.result.z_report = z.json()
            report = self.result.z_report
            self.progress.console.log(
                f"Z report: shift {report['shift_number']} closed, FD {report['fiscal_doc_number']}, "
                f"{report['receipts']} receipts"
            )
        else:
            self.result.problems.append(f"the Z report failed: {z.status_code} {z.text[:200]}")

    def wait_delivered(self, http: httpx.Client) -> None:
        deadline = time.monotonic() + self.plan.delivery_timeout_s
        while time.monotonic() < deadline:
            status = self.show_delivery(http)
            if status["accepted"] + status["pending"] == 0:
                return
            time.sleep(POLL_S)
        self.result.problems.append(f"not everything was delivered within {self.plan.delivery_timeout_s:g} s")


def play(url: str, ofd: OFDSwitch, plan: DayPlan, *, console: Console) -> DayResult:
    """Play the day against the adapter at ``url`` and the mock OFD ``ofd``, with progress bars on ``console``."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress, httpx.Client(base_url=url, timeout=30.0) as http:
        day = _Day(url, ofd, plan, progress)
        outage = threading.Thread(target=day.outage.run, name="ofd-outage", daemon=True)
        if plan.outage_s > 0:
            outage.start()
        try:
            with ThreadPoolExecutor(max_workers=plan.tills, thread_name_prefix="till") as tills:
                running = [tills.submit(day.till, till) for till in range(plan.tills)]
                try:
                    while not all(task.done() for task in running):
                        day.show_delivery(http)
                        time.sleep(POLL_S)
                finally:
                    day.stop.set()  # tills stop after their current sale if the day ends early (Ctrl-C, an error)
                for task in running:
                    task.result()
            while outage.is_alive():
                day.show_delivery(http)
                time.sleep(POLL_S)
            day.refund_and_close(http)
            day.wait_delivered(http)
        finally:
            day.outage.cancel.set()
            if outage.is_alive():
                outage.join(timeout=5)
        day.result.outage = day.outage.window
    return day.result
