"""Power loss with the ATOL driver: the adapter (``KKT_DRIVER_TYPE=atol``) and the ATOL emulator in separate
processes, SIGKILLs of the adapter at random instants under 4 careful tills."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from e2e.support import FAST, Spawn, buffer_status, sale, wait_for
from kkt_adapter.intake.drivers.atol import job_uuid
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.atol import MockAtolServer

KILLS = 20
DOC_RECEIPT = 3


def careful_till(adapter: AdapterProcess, n: int, stop: threading.Event, acked: dict[str, dict[str, Any]]) -> None:
    """Sell until ``stop``; after a lost answer or a 409/503 resend the same key until a final answer."""
    rng = random.Random(n)
    with httpx.Client(timeout=15) as http:
        i = 0
        while not stop.is_set():
            key, body = f"a{n}-{i}", sale(rng.randint(0, 10**6))
            deadline = time.monotonic() + 90
            while True:
                assert time.monotonic() < deadline, f"{key} got no final answer"
                try:
                    response = http.post(adapter.url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    time.sleep(0.01)
                    continue
                if response.status_code in (409, 503):
                    time.sleep(0.01)
                    continue
                assert response.status_code == 200, f"{key}: {response.status_code} {response.text}"
                acked[key] = response.json()
                break
            i += 1


def test_sigkill_with_the_atol_driver_prints_nothing_twice(spawn: Spawn, tmp_path: Path) -> None:
    """20 SIGKILLs of the adapter at random instants, 4 tills resending until answered: every acknowledged receipt
    is on the emulated FN exactly once under its key's job, the FN's document numbers are continuous, no sale is
    printed twice, and no receipt is left in doubt."""
    rng = random.Random(20261129)
    with MockAtolServer(port=0, data_dir=tmp_path / "atol-kkt") as atol:
        env = FAST | {
            "KKT_DRIVER_TYPE": "atol",
            "KKT_ATOL_URL": atol.url,
            "KKT_SYNC_ENABLED": "false",
            "KKT_BUFFER_MAX_SIZE": "100000",
            "KKT_ATOL_JOB_TIMEOUT": "5",
        }
        adapter = spawn(env, ready=False)
        acked: dict[str, dict[str, Any]] = {}
        stop = threading.Event()
        failures: list[BaseException] = []

        def run(n: int) -> None:
            try:
                careful_till(adapter, n, stop, acked)
            except BaseException as exc:
                failures.append(exc)

        tills = [threading.Thread(target=run, args=(n,)) for n in range(4)]
        for thread in tills:
            thread.start()
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.05, 0.3))
                adapter.kill()
                adapter.start()
        finally:
            stop.set()
            for thread in tills:
                thread.join(timeout=100)
        assert not failures, failures[0]
        assert len(acked) > KILLS

        wait_for(lambda: buffer_status(adapter.url)["accepted"] == 0, timeout=30, what="no receipt in doubt")
        documents = atol.kkt.journal(after_fd=0, limit=1_000_000)
        numbers = [document.fd_number for document in documents]
        assert numbers == list(range(1, len(numbers) + 1)), "FD numbers continuous"
        receipts = [document for document in documents if document.doc_type == DOC_RECEIPT]
        keys = [document.idempotency_key for document in receipts]
        assert len(keys) == len(set(keys)), "no job printed twice"
        fd_by_job = {document.idempotency_key: document.fd_number for document in receipts}
        for key, answer in acked.items():
            assert answer["fiscal_doc"]["fiscal_doc_number"] == fd_by_job[job_uuid(key, 0)], key
        assert len(receipts) == len(acked), "every printed sale was answered to its till, once"
        print(f"\n{KILLS} kills: {len(acked)} sales acknowledged, {len(receipts)} printed")
