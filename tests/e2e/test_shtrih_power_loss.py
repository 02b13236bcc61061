"""Power loss with the Shtrih-M native protocol in between: a real ``kkt-adapter serve`` with the Shtrih driver, the
Shtrih-M emulator serving it over TCP from the test process (which the adapter's SIGKILL leaves alone).

The FN keeps no idempotency keys, so "printed once" is proved by numbers: every sale a till saw acknowledged names an
FD whose document in the FN is a sale of that body's total, no two keys name the same FD, and the FN holds no
receipt beyond those. A sale printed twice (a resend after a lost answer, a restart that forgot a print under way)
would be an FN receipt that no acknowledged key names, and the counts would differ. The KKT delivers its own
documents to a mock OFD (``KKT_OFD_DELIVERY=device``), as the ATOL power-loss test does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.support import FAST, Spawn, buffer_status, sigkills_under_tills, wait_for
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.device import DOC_RECEIPT
from kkt_emulators.ofd import MockOFDServer
from kkt_emulators.shtrih import MockShtrihServer
from ready_device import ready_device

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

KILLS = 20
#: Small, so that a run stays short, yet long enough that kills land while a receipt is being printed.
PRINT_DELAY_MS = 10
SALE = 1  # tag 1054: income


@pytest.fixture
def shtrih_server(tmp_path: Path, mock_ofd_server: MockOFDServer) -> Iterator[MockShtrihServer]:
    """The emulated Shtrih-M over a device in use (shift open, earlier documents acknowledged), its FN delivering to
    the mock OFD."""
    ready_device(tmp_path / "shtrih")
    server = MockShtrihServer(
        port=0,
        data_dir=tmp_path / "shtrih",
        print_delay_ms=PRINT_DELAY_MS,
        ofd_url=mock_ofd_server.url,
        ofd_interval_s=0.05,
    )
    with server:
        yield server


def kopecks(body: dict[str, Any]) -> int:
    """What a sale's body asks to be paid, in kopecks."""
    return sum(int(Decimal(str(payment["amount"])) * 100) for payment in body["payments"])


def test_sigkill_of_the_adapter_with_the_shtrih_driver_prints_no_sale_twice(
    spawn: Spawn, shtrih_server: MockShtrihServer, mock_ofd_server: MockOFDServer
) -> None:
    """20 SIGKILLs of the adapter at random instants under 4 careful tills, printing over the Shtrih-M protocol →
    every acknowledged key replays to its FD, which in the FN is a sale of that key's total; the FN holds exactly one
    receipt per acknowledged key and no other; its numbers are continuous; the KKT delivers every document once."""
    kkt = shtrih_server.kkt
    first_fd = kkt.journal(limit=1_000_000)[-1].fd_number
    env = FAST | {
        "KKT_DRIVER_TYPE": "shtrih",
        "KKT_SHTRIH_URL": shtrih_server.url,
        "KKT_SHTRIH_ANSWER_TIMEOUT": "2",
        "KKT_OFD_DELIVERY": "device",
        "KKT_OFD_DEVICE_POLL_S": "0.1",
        "KKT_BUFFER_MAX_SIZE": "100000",
    }
    adapter: AdapterProcess = spawn(env, ready=False)
    sent: dict[str, dict[str, Any]] = {}
    acked = sigkills_under_tills(adapter, kills=KILLS, rng=random.Random(20261130), sent=sent)
    assert len(acked) > KILLS
    assert set(acked) == set(sent), "every sale a till began got a final answer (none was left unresent)"

    documents = [d for d in kkt.journal(limit=1_000_000) if d.fd_number > first_fd]
    numbers = [d.fd_number for d in documents]
    assert numbers == list(range(first_fd + 1, first_fd + 1 + len(numbers))), "FD numbers continuous"
    receipts = {d.fd_number: d for d in documents if d.doc_type == DOC_RECEIPT}
    fd_of = {key: answer["fiscal_doc"]["fiscal_doc_number"] for key, answer in acked.items()}
    assert len(set(fd_of.values())) == len(fd_of), "no two keys answered with one document"
    for key, fd in fd_of.items():
        document = receipts.get(fd)
        assert document is not None, f"{key}: FD {fd} is not a receipt in the FN"
        assert (document.operation, document.total_kop) == (SALE, kopecks(sent[key])), f"{key}: FD {fd} differs"
        assert str(document.fiscal_sign) == str(acked[key]["fiscal_doc"]["fiscal_sign"]), f"{key}: fiscal sign"
    unclaimed = sorted(set(receipts) - set(fd_of.values()))
    assert unclaimed == [], f"receipts in the FN that no acknowledged key names (printed twice?): {unclaimed}"
    assert len(receipts) == len(acked), "one receipt in the FN per acknowledged key"

    with httpx.Client(timeout=10) as http:
        for key, answer in acked.items():
            replay = http.post(adapter.url + "/v1/kkt/receipt", json=sent[key], headers={"Idempotency-Key": key})
            assert replay.status_code == 200, f"{key}: {replay.status_code} {replay.text}"
            assert replay.json()["fiscal_doc"]["fiscal_doc_number"] == fd_of[key], f"{key}: replay differs"
            assert replay.json()["receipt_id"] == answer["receipt_id"], f"{key}: another receipt in the buffer"

    def delivered() -> bool:
        status = buffer_status(adapter.url)
        return bool(status["current_queued"] == 0 and status["accepted"] == 0)

    wait_for(delivered, timeout=60, what="every document delivered by the KKT and tracked by the adapter")
    status = buffer_status(adapter.url)
    assert (status["pending"], status["dlq_size"], status["failed"]) == (0, 0, 0)
    stats = mock_ofd_server.get_stats()
    (fn,) = stats["fn"].values()
    assert stats["conflicts"] == 0 and fn["gaps"] == []
    assert (fn["first_fd"], fn["last_fd"]) == (first_fd + 1, documents[-1].fd_number), "every document delivered"
    assert stats["unique_documents"] == len(documents), "each document once"
    print(f"\n{KILLS} kills: {len(acked)} sales acknowledged through Shtrih-M, {len(documents)} documents in the FN")
