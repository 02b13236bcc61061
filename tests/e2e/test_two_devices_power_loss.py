"""Power loss with two KKTs behind one adapter: SIGKILLs at random instants while the primary's paper keeps running
out and coming back, so that sales fail over to the backup and back (issue 13)."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from e2e.support import FAST, Spawn, buffer_status, sigkills_under_tills, wait_for
from kkt_emulators.device import DOC_RECEIPT, EmulatedKKT
from kkt_emulators.ofd import MockOFDServer
from ready_device import fn_number, journal, ready_device

KILLS = 20
SEED = 20261130
DEVICES = ("main", "backup")  # the first is the primary
FAILOVER = re.compile(r"^main -> backup: \S+: .+")


class PaperFlapper:
    """Switches a device's ``paper_out`` fault on and off every 50–150 ms from a thread of the test process (the
    device's store is shared with the adapter's process); counts the switches and keeps the thread's failure."""

    def __init__(self, state_dir: Path, rng: random.Random) -> None:
        self.state_dir = state_dir
        self.switches = 0
        self.failure: BaseException | None = None
        self._rng = rng
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="paper-flapper")

    def _run(self) -> None:
        try:
            with EmulatedKKT(self.state_dir, print_delay_ms=0) as kkt:
                paper_out = False
                while not self._stop.wait(self._rng.uniform(0.05, 0.15)):
                    paper_out = not paper_out
                    kkt.set_fault("paper_out", paper_out)
                    self.switches += 1
                kkt.clear_faults()
        except BaseException as exc:
            self.failure = exc

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop switching and leave the paper in (fails the test if the thread failed)."""
        self._stop.set()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the flapper did not stop"
        if self.failure is not None:
            raise self.failure


@contextmanager
def paper_flapping(state_dir: Path, rng: random.Random) -> Iterator[PaperFlapper]:
    flapper = PaperFlapper(state_dir, rng)
    flapper.start()
    try:
        yield flapper
    finally:
        flapper.stop()


def stored_receipts(url: str, answers: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """For each answer, the adapter's view of its receipt and the details of its ``failover`` audit events (one
    connection for all: a client per request would spend most of the time setting up TLS contexts)."""
    with httpx.Client(base_url=url, timeout=10) as http:
        for answer in answers:
            stored = http.get(f"/v1/kkt/receipt/{answer['receipt_id']}")
            assert stored.status_code == 200, stored.text
            events = http.get(f"/v1/kkt/receipt/{answer['receipt_id']}/events", params={"limit": 1000})
            assert events.status_code == 200, events.text
            yield stored.json(), [e["detail"] for e in events.json()["items"] if e["kind"] == "failover"]


def test_sigkills_under_failover_between_two_devices_lose_and_duplicate_nothing(
    spawn: Spawn, mock_ofd_server: MockOFDServer, tmp_path: Path
) -> None:
    """20 SIGKILLs at random instants of one adapter over two emulated KKTs, under 4 careful tills and a primary
    whose paper runs out and comes back every 50–150 ms → every acknowledged sale is in exactly one device's journal,
    once, with the device and FD number its answer gave; each device's FD numbers are continuous; the OFD holds
    every new document of both FNs once, with no gap; every buffer row ends synced; the refusals were failed over."""
    rng = random.Random(SEED)
    mock_ofd_server.set_latency(5, jitter_ms=10)  # sends take a while, so some kills land mid-send
    state_dirs = {name: tmp_path / f"kkt-{name}" for name in DEVICES}
    for state_dir in state_dirs.values():
        ready_device(state_dir)  # shift open, everything so far acknowledged: only the test's documents are new
    first_fd = {name: journal(state_dir)[-1].fd_number for name, state_dir in state_dirs.items()}
    fns = {name: fn_number(state_dir) for name, state_dir in state_dirs.items()}
    assert len(set(fns.values())) == len(DEVICES), "two fiscal drives"
    devices = [
        {"name": name, "driver": "emulated", "state_dir": str(state_dir), "print_delay_ms": 1}
        for name, state_dir in state_dirs.items()
    ]
    env = FAST | {
        "KKT_DEVICES": json.dumps(devices),
        "KKT_FAILOVER_RECHECK_S": "0.05",
        "KKT_OFD_API_URL": mock_ofd_server.url,
        "KKT_SYNC_LEASE_SECONDS": "0.5",
        "KKT_OFD_TIMEOUT": "0.2",
        "KKT_BUFFER_MAX_SIZE": "100000",
    }
    adapter = spawn(env, ready=False)
    started = time.monotonic()
    with paper_flapping(state_dirs["main"], random.Random(SEED + 1)) as flapper:
        acked = sigkills_under_tills(adapter, kills=KILLS, rng=rng)
    killed = time.monotonic()
    assert len(acked) > KILLS
    assert flapper.switches > KILLS, "the primary's paper ran out and came back many times"

    # Each device's journal: continuous numbers, no key printed twice, and no key on both devices.
    documents = {name: [d for d in journal(sd) if d.fd_number > first_fd[name]] for name, sd in state_dirs.items()}
    printed: dict[str, tuple[str, int]] = {}  # key → (device, FD number)
    for name, docs in documents.items():
        numbers = [d.fd_number for d in docs]
        assert numbers == list(range(first_fd[name] + 1, first_fd[name] + 1 + len(numbers))), f"{name}: FD gap"
        for document in (d for d in docs if d.doc_type == DOC_RECEIPT):
            key = document.idempotency_key
            assert key is not None and key not in printed, f"{key} printed twice: {printed.get(key or '')}, {name}"
            printed[key] = (name, document.fd_number)
    for key, answer in acked.items():
        assert key in printed, f"{key}: acknowledged ({answer.get('device')}) but on no device's journal"
        assert (answer["device"], answer["fiscal_doc"]["fiscal_doc_number"]) == printed[key], f"{key}: answer differs"
    assert set(printed) == set(acked), "every sale printed was acknowledged (the tills resend until they are)"
    on_device = {name: sum(1 for device, _ in printed.values() if device == name) for name in DEVICES}
    assert all(on_device.values()), f"both devices printed: {on_device}"

    # Delivery: every buffer row synced, every document of both FNs at the OFD exactly once.
    def drained() -> bool:
        status = buffer_status(adapter.url)
        return bool(status["current_queued"] == 0 and status["accepted"] == 0)

    wait_for(drained, timeout=60, what="every document of both devices delivered")
    status = buffer_status(adapter.url)
    assert (status["accepted"], status["pending"], status["dlq_size"], status["failed"]) == (0, 0, 0, 0), status
    failovers: list[str] = []
    for answer, (stored, moves) in zip(acked.values(), stored_receipts(adapter.url, acked.values()), strict=True):
        assert (stored["state"], stored["device"]) == ("synced", answer["device"]), (answer, stored)
        failovers += moves
    assert failovers, "some sale refused by the primary was failed over"
    assert all(FAILOVER.match(detail) for detail in failovers), failovers  # the backup never refused

    expected = sorted((fns[name], d.fd_number) for name, docs in documents.items() for d in docs)
    received = [body["fiscal_document"] for body in mock_ofd_server.get_received_receipts()]
    assert sorted((str(doc["1041"]), int(doc["1040"])) for doc in received) == expected, "each document once"
    stats = mock_ofd_server.get_stats()
    assert (stats["unique_documents"], stats["conflicts"]) == (len(expected), 0)
    for name, docs in documents.items():
        fn = stats["fn"][fns[name]]
        assert (fn["first_fd"], fn["last_fd"], fn["gaps"]) == (first_fd[name] + 1, docs[-1].fd_number, []), name
    print(
        f"\n{KILLS} kills, {flapper.switches} paper switches: {len(acked)} sales acknowledged, printed {on_device}, "
        f"{len(failovers)} failovers, {stats['duplicates']} resends answered as duplicates; "
        f"{killed - started:.1f} s of kills, {time.monotonic() - killed:.1f} s of checks"
    )
