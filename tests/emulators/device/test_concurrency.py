"""One device prints one document at a time: threads, instances and processes sharing a directory never number two
documents alike nor leave a gap (fiscal notes, "Numbering")."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kkt_emulators.device import DOC_RECEIPT, EmulatedKKT, FiscalDocument

from .helpers import KKTFactory, sale

PRINTER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from decimal import Decimal
    from kkt_emulators.device import EmulatedKKT, ReceiptTask, TaskItem

    directory, count, prefix = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    item = TaskItem(name="Товар", price_kop=100, quantity=Decimal(1), sum_kop=100, vat_code=1)
    task = ReceiptTask(operation=1, items=(item,), cash_kop=100)
    with EmulatedKKT(directory, print_delay_ms=0) as kkt:
        numbers = [kkt.print_receipt(task, idempotency_key=f"{prefix}-{i}").fd_number for i in range(count)]
    print(json.dumps(numbers))
    """
)


def _assert_gap_free(journal: list[FiscalDocument], receipts: int) -> None:
    assert [doc.fd_number for doc in journal] == list(range(1, len(journal) + 1))
    keys = [doc.idempotency_key for doc in journal if doc.doc_type == DOC_RECEIPT]
    assert len(keys) == len(set(keys)) == receipts


def test_threads_on_one_instance_get_unique_gap_free_numbers(kkt: EmulatedKKT) -> None:
    """10 threads × 10 receipts on one instance: 100 receipts, FD numbers unique and gap-free."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        docs = list(pool.map(lambda i: kkt.print_receipt(sale(), idempotency_key=f"k-{i}"), range(100)))
    assert sorted(doc.fd_number for doc in docs) == list(range(3, 103))
    assert sorted(doc.receipt_number or 0 for doc in docs) == list(range(1, 101))
    _assert_gap_free(kkt.journal(), 100)


def test_two_instances_in_threads_share_one_numbering(make_kkt: KKTFactory) -> None:
    """Two instances on one directory, printing from two threads at once, allocate from one FD counter."""
    devices = [make_kkt(), make_kkt()]

    def run(index: int) -> list[int]:
        return [devices[index].print_receipt(sale(), idempotency_key=f"{index}-{i}").fd_number for i in range(40)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        numbers = [n for batch in pool.map(run, range(2)) for n in batch]
    assert sorted(numbers) == list(range(3, 83))
    _assert_gap_free(devices[0].journal(), 80)


def test_one_key_printed_concurrently_is_printed_once(make_kkt: KKTFactory) -> None:
    """Eight concurrent requests with one key, through two instances, yield one receipt and the same document."""
    devices = [make_kkt(), make_kkt()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        docs = list(pool.map(lambda i: devices[i % 2].print_receipt(sale(), idempotency_key="same"), range(8)))
    assert len({doc.fd_number for doc in docs}) == 1
    assert devices[0].status().last_fd_number == 3


@pytest.mark.slow
def test_two_processes_and_this_one_print_concurrently_without_gaps(state_dir: Path, make_kkt: KKTFactory) -> None:
    """Two processes start on an empty directory and print with a third instance: one registration, no gap."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PRINTER, str(state_dir), "60", f"p{n}"], stdout=subprocess.PIPE, text=True
        )
        for n in range(2)
    ]
    here = make_kkt()
    mine = [here.print_receipt(sale(), idempotency_key=f"here-{i}").fd_number for i in range(60)]
    theirs: list[int] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        theirs += json.loads(out)
    numbers = mine + theirs
    assert len(numbers) == len(set(numbers)) == 180
    journal = here.journal()
    assert len(journal) == 182  # registration + one shift opening + 180 receipts
    _assert_gap_free(journal, 180)


def test_print_delay_serialises_prints_across_instances(make_kkt: KKTFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a print delay, documents from two instances are printed one after another, never overlapping."""
    real_sleep = time.sleep
    events: list[str] = []

    def printing(seconds: float) -> None:
        events.append("begin")
        real_sleep(seconds)  # the window in which another print would overlap, if the device let it
        events.append("end")

    monkeypatch.setattr(time, "sleep", printing)
    devices = [make_kkt(print_delay_ms=30), make_kkt(print_delay_ms=30)]
    devices[0].open_shift()
    events.clear()
    threads = [
        threading.Thread(
            target=lambda d=d, n=n: [d.print_receipt(sale(), idempotency_key=f"{n}-{i}") for i in range(3)]
        )
        for n, d in enumerate(devices)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert events == ["begin", "end"] * 6
    _assert_gap_free(devices[1].journal(), 6)


def test_default_print_delay_is_200_to_500_ms_per_document(
    make_kkt: KKTFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a configured delay, each printed document takes a random 200–500 ms, as the emulation guide says."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    kkt = make_kkt(print_delay_ms=None)
    doc = kkt.print_receipt(sale(), idempotency_key="a")  # shift opening + receipt
    kkt.print_receipt(sale(), idempotency_key="b")
    kkt.print_receipt(sale(), idempotency_key="a")  # replay: nothing printed, no wait
    assert len(waits) == 2
    assert 0.4 <= waits[0] <= 1.0
    assert 0.2 <= waits[1] <= 0.5
    assert doc.receipt_number == 1


LOOPER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from decimal import Decimal
    from kkt_emulators.device import EmulatedKKT, ReceiptTask, TaskItem

    item = TaskItem(name="Товар", price_kop=100, quantity=Decimal(1), sum_kop=100, vat_code=1)
    task = ReceiptTask(operation=1, items=(item,), cash_kop=100)
    kkt = EmulatedKKT(Path(sys.argv[1]), print_delay_ms=int(sys.argv[2]))
    i = 0
    while True:
        kkt.print_receipt(task, idempotency_key=f"loop-{i}")
        print(i, flush=True)
        i += 1
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("delay_ms", [0, 5])
def test_process_killed_mid_print_leaves_a_consistent_journal(
    state_dir: Path, make_kkt: KKTFactory, delay_ms: int
) -> None:
    """SIGKILL at an arbitrary instant: every acknowledged receipt is journaled, no gap, and printing continues."""
    command = [sys.executable, "-c", LOOPER, str(state_dir), str(delay_ms)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        acknowledged = [proc.stdout.readline() for _ in range(20)]
        proc.kill()
        proc.wait(timeout=10)
    kkt = make_kkt()
    for line in acknowledged:
        assert kkt.find_by_key(f"loop-{line.strip()}") is not None
    after = kkt.print_receipt(sale(), idempotency_key="after-crash")
    journal = kkt.journal(limit=100_000)
    _assert_gap_free(journal, len(journal) - 2)
    assert after.fd_number == journal[-1].fd_number
