"""Status answers while the KKT prints: health, buffer status and metrics never queue behind the printer.

A real ``kkt-adapter serve`` process with a 300 ms print delay takes 10 receipts at once; the device prints them one
at a time (about 3 s). While they print, each status endpoint must answer — proved by order, not by time: when it
has answered, receipts are still outstanding, and the device state it reports is the one the prints left, short of
the batch's last document (a probe queued on the device's thread would answer only after all of them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kkt_adapter.testing import bodies, wait_for
from kkt_adapter.testing.process import AdapterProcess
from ready_device import ready_device

RECEIPTS = 10
PRINT_DELAY_MS = 300


def sale(kopecks: int) -> dict[str, Any]:
    return bodies.sale(bodies.rubles(kopecks))


class Printers:
    """``RECEIPTS`` threads, each posting one receipt with its own key; counts the answers as they come back."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()
        self.answers: list[httpx.Response] = []
        self.errors: list[Exception] = []
        self.threads = [threading.Thread(target=self._post, args=(n,), daemon=True) for n in range(RECEIPTS)]

    def _post(self, n: int) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=30) as http:
                response = http.post(
                    "/v1/kkt/receipt", json=sale(10_000 + n), headers={"Idempotency-Key": f"status-while-printing-{n}"}
                )
        except Exception as exc:  # surfaced by the test, not lost in the thread
            with self.lock:
                self.errors.append(exc)
            return
        with self.lock:
            self.answers.append(response)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            if thread.ident is not None:  # started
                thread.join(timeout=60)

    @property
    def done(self) -> int:
        """Receipt requests that have returned (answered or failed)."""
        with self.lock:
            return len(self.answers) + len(self.errors)


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[AdapterProcess]:
    ready_device(tmp_path / "data" / "kkt")  # the shift is open: the batch is receipts only
    process = AdapterProcess(tmp_path / "data", env={"KKT_EMULATOR_PRINT_DELAY_MS": str(PRINT_DELAY_MS)})
    process.start()
    try:
        yield process
    finally:
        process.stop()


def metric(text: str, line_start: str) -> float:
    """The value of the first sample line of ``text`` that starts with ``line_start``."""
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {line_start!r} in /metrics")


@pytest.mark.slow
def test_status_answers_while_receipts_print(adapter: AdapterProcess) -> None:
    status = httpx.Client(base_url=adapter.url, timeout=30)
    printers = Printers(adapter.url)
    try:
        idle = status.get("/v1/health")
        assert idle.status_code == 200, idle.text
        fd_before = idle.json()["components"]["device"]["last_fd_number"]

        printers.start()
        # Every key is stored (so every print is queued on the device's thread) and the first print has finished:
        # about 2.7 s of printing is left, and one print's state is in the device monitor.
        wait_for(lambda: printers.done >= 1, timeout=30, what="the first receipt's answer")

        def stored() -> bool:
            body = status.get("/v1/kkt/buffer/status").json()
            return body["accepted"] + body["pending"] + body["synced"] + body["failed"] == RECEIPTS

        wait_for(stored, timeout=30, what="all keys stored")

        # The order witness is the device's last FD number in health: the print path raises it after each document,
        # so a value short of the batch's last document means the batch had not finished printing.
        last_possible = fd_before + RECEIPTS  # the batch's last document is at least this (a shift may open first)

        def last_fd() -> int:
            answer = status.get("/v1/health")
            assert answer.status_code == 200, answer.text
            return int(answer.json()["components"]["device"]["last_fd_number"])

        health = status.get("/v1/health")
        done_at_health = printers.done
        assert health.status_code == 200, health.text
        device = health.json()["components"]["device"]
        assert device["status"] == "ok", device
        fd_at_health = device["last_fd_number"]
        assert fd_at_health < last_possible, "health's device state is the batch's end: it waited for the printer"
        assert fd_before < fd_at_health, "health's device state does not show the receipts printed so far"
        assert done_at_health < RECEIPTS, "health answered only after every receipt had been printed"

        buffer = status.get("/v1/kkt/buffer/status")
        done_at_buffer = printers.done
        assert buffer.status_code == 200, buffer.text
        assert done_at_buffer < RECEIPTS, "buffer status answered only after every receipt had been printed"
        assert buffer.json()["accepted"] >= 1, buffer.json()
        assert last_fd() < last_possible, "buffer status answered only after the batch had been printed"

        metrics = status.get("/metrics")
        done_at_metrics = printers.done
        assert metrics.status_code == 200, metrics.text
        assert done_at_metrics < RECEIPTS, "/metrics answered only after every receipt had been printed"
        assert metric(metrics.text, 'kkt_buffer_receipts{state="accepted"}') >= 1
        assert metric(metrics.text, "kkt_device_usable") == 1.0
        assert last_fd() < last_possible, "/metrics answered only after the batch had been printed"

        printers.join()
        assert not printers.errors, printers.errors
        assert [r.status_code for r in printers.answers] == [200] * RECEIPTS, [r.text for r in printers.answers]
        numbers = sorted(r.json()["fiscal_doc"]["fiscal_doc_number"] for r in printers.answers)
        # Health reported a state between the first and the last of the batch's documents: the one the prints had
        # left, not a probe that waited for the printer to finish.
        assert numbers[0] <= fd_at_health < numbers[-1], (fd_at_health, numbers)

        after = status.get("/v1/health")
        assert after.status_code == 200, after.text
        assert after.json()["components"]["device"]["last_fd_number"] == numbers[-1]
    finally:
        printers.join()
        status.close()
