"""Power loss with a real protocol in between: the adapter's ATOL driver and the ATOL emulator in separate processes.

The emulator's KKT sends its own documents to a mock OFD (as a real FN does) and the adapter tracks their delivery
from the device (``KKT_OFD_DELIVERY=device``): nothing reaches the OFD through the adapter.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from e2e.support import FAST, Spawn, buffer_status, sigkills_under_tills, wait_for
from kkt_adapter.devices.atol.driver import job_uuid
from kkt_adapter.testing.process import AdapterProcess, free_port
from kkt_emulators.device import DOC_RECEIPT
from kkt_emulators.ofd import MockOFDServer
from ready_device import journal, ready_device

KILLS = 20
LISTENING = re.compile(r"mock ATOL listening on (?P<url>http://127\.0\.0\.1:\d+)")


class AtolProcess:
    """``kkt-adapter emulate atol`` in its own process, its device kept in ``data_dir``."""

    def __init__(self, data_dir: Path, *, ofd_url: str) -> None:
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{free_port()}"
        command = [sys.executable, "-m", "kkt_adapter", "emulate", "atol", "--port", self.url.rsplit(":", 1)[1]]
        command += ["--data-dir", str(data_dir), "--ofd-url", ofd_url, "--ofd-interval", "0.05"]
        self.log = (data_dir.parent / "atol.log").open("wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._answers, timeout=20, what="the ATOL emulator answers")

    def _answers(self) -> bool:
        assert self.process.poll() is None, f"the ATOL emulator exited with {self.process.returncode}"
        try:
            return httpx.get(self.url + "/api/v2/serverInfo", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def atol_process(tmp_path: Path, mock_ofd_server: MockOFDServer) -> Iterator[AtolProcess]:
    """The ATOL emulator over a device in use (shift open, earlier documents acknowledged), sending to the mock OFD."""
    ready_device(tmp_path / "atol")
    server = AtolProcess(tmp_path / "atol", ofd_url=mock_ofd_server.url)
    try:
        yield server
    finally:
        server.stop()


def test_sigkill_of_the_adapter_with_the_atol_driver_prints_nothing_twice_and_the_kkt_delivers_all(
    spawn: Spawn, atol_process: AtolProcess, mock_ofd_server: MockOFDServer, tmp_path: Path
) -> None:
    """20 SIGKILLs of the adapter at random instants under 4 tills, printing through ATOL Web Requests → every
    acknowledged receipt is on the FN once, under its key's job, with the FD number its answer gave; the FN's
    numbers are continuous; the KKT delivers every document to the OFD once; the adapter's receipts all end
    ``synced`` from the device's exchange status, with nothing posted by the adapter."""
    first_fd = journal(tmp_path / "atol")[-1].fd_number
    rng = random.Random(20261129)
    env = FAST | {
        "KKT_DRIVER_TYPE": "atol",
        "KKT_ATOL_URL": atol_process.url,
        "KKT_ATOL_POLL_INTERVAL": "0.02",
        "KKT_ATOL_JOB_TIMEOUT": "5",
        "KKT_OFD_DELIVERY": "device",
        "KKT_OFD_DEVICE_POLL_S": "0.1",
        "KKT_BUFFER_MAX_SIZE": "100000",
    }
    adapter: AdapterProcess = spawn(env, ready=False)
    acked = sigkills_under_tills(adapter, kills=KILLS, rng=rng)
    assert len(acked) > KILLS

    documents = [d for d in journal(tmp_path / "atol") if d.fd_number > first_fd]
    numbers = [d.fd_number for d in documents]
    assert numbers == list(range(first_fd + 1, first_fd + 1 + len(numbers))), "FD numbers continuous"
    receipts = [d for d in documents if d.doc_type == DOC_RECEIPT]
    by_job = {d.idempotency_key: d for d in receipts}
    assert len(by_job) == len(receipts), "no job printed twice"
    for key, answer in acked.items():
        printed = [by_job[job] for job in (job_uuid(key, attempt) for attempt in range(5)) if job in by_job]
        assert len(printed) == 1, f"{key}: printed {len(printed)} times"
        assert answer["fiscal_doc"]["fiscal_doc_number"] == printed[0].fd_number, f"{key}: answer and FN differ"

    def delivered() -> bool:
        status = buffer_status(adapter.url)
        return bool(status["current_queued"] == 0 and status["accepted"] == 0)

    wait_for(delivered, timeout=60, what="every document delivered by the KKT and tracked by the adapter")
    status = buffer_status(adapter.url)
    assert (status["pending"], status["dlq_size"], status["failed"]) == (0, 0, 0)
    for answer in acked.values():
        receipt = httpx.get(f"{adapter.url}/v1/kkt/receipt/{answer['receipt_id']}", timeout=5).json()
        assert receipt["state"] == "synced", receipt

    stats = mock_ofd_server.get_stats()
    (fn,) = stats["fn"].values()
    assert stats["conflicts"] == 0 and fn["gaps"] == []
    assert (fn["first_fd"], fn["last_fd"]) == (first_fd + 1, documents[-1].fd_number), "every document delivered"
    assert stats["unique_documents"] == len(documents), "each document once"
    print(f"\n{KILLS} kills: {len(acked)} sales acknowledged through ATOL, {len(documents)} documents delivered")
