"""The ATOL driver against ``MockAtolServer`` over real HTTP: every task, every fault program, a lost reply on the
POST and on the GET, ``blocked`` with and without the document made (exactly one document each time), Basic auth,
the older dialect, batches (a refusal, a lost POST, a block in the middle, a resend after a crash); and the adapter
itself, ``KKT_DRIVER_TYPE=atol`` in its own process, printing sales on the emulated FN, concurrent ones too.

Polling runs on a manual clock whose ``sleep`` also yields a few real milliseconds to the server's worker thread, so
that a timeout of many seconds passes in a fraction of one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from kkt_adapter.devices.atol import AtolDriver, AtolOutcomeUnknown, WebRequestsTransport, job_uuid
from kkt_adapter.devices.atol.tasks import receipt_task
from kkt_adapter.devices.protocol import PrintJob
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DOC_RECEIPT
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable, ShiftConflict
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Cashier, Item, Payment, Receipt
from kkt_adapter.testing import bodies
from kkt_adapter.testing.process import AdapterProcess
from kkt_clock import ManualClock
from kkt_emulators.atol import MockAtolServer

SALE = Receipt(
    pos_id="till-1",
    operation="sale",
    items=(Item("Оправа", 15_025, Decimal(2), 30_050, 1),),
    payments=(Payment("cash", 30_000), Payment("card", 50)),
    cashier=Cashier("Иванов И.И."),
    customer_contact="+79990000000",
)
REFUND = Receipt(pos_id="till-1", operation="refund", items=SALE.items, payments=(Payment("cash", 30_050),))
#: A sale the device refuses for its content (a name longer than 128 characters: ATOL error 13).
BAD = Receipt(
    pos_id="till-1", operation="sale", items=(Item("x" * 200, 30_050, Decimal(1), 30_050, 1),), payments=SALE.payments
)


def make_driver(url: str, *, timeout: float = 30.0, **transport: object) -> AtolDriver:
    clock = ManualClock()

    def sleep(seconds: float) -> None:
        clock.advance(seconds)
        time.sleep(min(seconds, 0.005))

    return AtolDriver(
        WebRequestsTransport(url, **transport),  # type: ignore[arg-type]
        clock=clock,
        sleep=sleep,
        poll_interval=0.05,
        job_timeout=timeout,
    )


@pytest.fixture
def driver(mock_atol_server: MockAtolServer) -> Iterator[AtolDriver]:
    made = make_driver(mock_atol_server.url)
    yield made
    made.close()


def receipts(server: MockAtolServer) -> list[int]:
    """FD numbers of the receipts and corrections on the emulated FN."""
    return [doc.fd_number for doc in server.kkt.journal(after_fd=0, limit=10_000) if doc.receipt_number is not None]


def test_every_task_over_real_http(mock_atol_server: MockAtolServer, driver: AtolDriver) -> None:
    """Sale, refund, correction, Z report, shift opening, the X report and every status read, each mapped."""
    sale = driver.print_receipt(SALE, idempotency_key="sale")
    document = mock_atol_server.kkt.find_by_key(job_uuid("sale", 0))
    assert document is not None
    assert (sale.fiscal_doc_number, sale.fiscal_sign, sale.total_kop) == (
        document.fd_number,
        str(document.fiscal_sign),
        30_050,
    )
    assert sale.qr_code_data == document.qr
    assert (sale.fn_number, sale.kkt_number) == (document.fn_number, document.kkt_reg_number)
    refund = driver.print_receipt(REFUND, idempotency_key="refund")
    assert refund.qr_code_data.endswith("&n=2")
    correction = driver.print_correction(Correction(SALE, "self", date(2026, 11, 1)), idempotency_key="corr")
    assert correction.doc_type == 31
    report = driver.shift_report()
    assert (report.open, report.receipts) == (True, 3)
    driver.print_x_report()
    z, totals = driver.close_shift(idempotency_key="z")
    assert (z.doc_type, totals.receipts) == (5, 3)
    with pytest.raises(ShiftConflict):
        driver.close_shift(idempotency_key="z-again")
    opening = driver.open_shift(idempotency_key="open")
    assert (opening.doc_type, opening.shift_number) == (2, z.shift_number + 1)
    fn = driver.fn_status()
    assert fn.documents_count == opening.fiscal_doc_number
    assert fn.fn_number == sale.fn_number
    state = driver.state()
    assert (state.online, state.shift_open, state.last_fd_number, state.kkt_number) == (
        True,
        True,
        opening.fiscal_doc_number,
        sale.kkt_number,
    )
    entries = driver.journal(after_fd=sale.fiscal_doc_number - 1, limit=3)
    assert [entry.result for entry in entries][:2] == [sale, refund]
    assert driver.find_by_key("sale") == sale
    assert driver.find_by_key("never-printed") is None


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        ("paper_out", DeviceRefused, "paper_out"),
        ("cover_open", DeviceRefused, "cover_open"),
        ("disconnect", DeviceUnavailable, "offline"),
    ],
)
def test_each_device_fault_refuses_and_the_retry_prints_once(
    mock_atol_server: MockAtolServer, driver: AtolDriver, fault: str, kind: type[DeviceRefused], code: str
) -> None:
    """Paper out, cover open, device not connected: the mapped refusal, nothing printed; after the fault the same
    key prints exactly one document."""
    getattr(mock_atol_server.faults, fault)()
    with pytest.raises(kind) as refused:
        driver.print_receipt(SALE, idempotency_key="k")
    assert refused.value.code == code
    assert receipts(mock_atol_server) == []
    mock_atol_server.faults.clear()
    driver.print_receipt(SALE, idempotency_key="k")
    assert len(receipts(mock_atol_server)) == 1


def test_a_server_down_is_unavailable(mock_atol_server: MockAtolServer, driver: AtolDriver) -> None:
    """The server answering 503 (down for a while): DeviceUnavailable, nothing printed."""
    driver.fn_status()
    mock_atol_server.faults.down_for(60)
    with pytest.raises(DeviceUnavailable):
        driver.print_receipt(SALE, idempotency_key="k")
    assert receipts(mock_atol_server) == []


def test_in_progress_for_some_polls(mock_atol_server: MockAtolServer, driver: AtolDriver) -> None:
    """A job reading inProgress for 6 polls after it finished: polled through, one document."""
    mock_atol_server.faults.in_progress(polls=6)
    driver.print_receipt(SALE, idempotency_key="k")
    assert len(receipts(mock_atol_server)) == 1


@pytest.mark.parametrize("on", ["post", "get"])
def test_a_lost_reply_prints_exactly_once(mock_atol_server: MockAtolServer, driver: AtolDriver, on: str) -> None:
    """The job's answer dropped on the POST or on the GET: the driver resends the same uuid / reads again, and
    returns the one document."""
    mock_atol_server.faults.lose_reply(on=on, times=1)  # type: ignore[arg-type]
    result = driver.print_receipt(SALE, idempotency_key="k")
    assert receipts(mock_atol_server) == [result.fiscal_doc_number]


@pytest.mark.parametrize("printed", [True, False])
def test_blocked_then_resolved_leaves_exactly_one_document(
    mock_atol_server: MockAtolServer, driver: AtolDriver, printed: bool
) -> None:
    """A job blocked for some polls, the document made or not: printed → its result; not printed → unavailable and
    the retry prints; exactly one document either way."""
    mock_atol_server.faults.block(printed=printed, polls=5)
    if printed:
        driver.print_receipt(SALE, idempotency_key="k")
    else:
        with pytest.raises(DeviceUnavailable):
            driver.print_receipt(SALE, idempotency_key="k")
        driver.print_receipt(SALE, idempotency_key="k")
    assert len(receipts(mock_atol_server)) == 1


@pytest.mark.parametrize("printed", [True, False])
def test_blocked_past_the_timeout_is_unknown_then_settled_by_the_key(
    mock_atol_server: MockAtolServer, printed: bool
) -> None:
    """Blocked until cleared: the print's outcome is unknown at the timeout (never resent); after the block ends,
    find_by_key gives the document or None, and a print of the key never makes a second one."""
    driver = make_driver(mock_atol_server.url, timeout=3.0)
    driver.fn_status()
    mock_atol_server.faults.block(printed=printed, polls=0)
    with pytest.raises(AtolOutcomeUnknown, match="blocked"):
        driver.print_receipt(SALE, idempotency_key="k")
    mock_atol_server.faults.clear()
    found = driver.find_by_key("k")
    assert (found is not None) is printed
    driver.print_receipt(SALE, idempotency_key="k")
    assert len(receipts(mock_atol_server)) == 1
    driver.close()


def test_basic_auth_and_the_older_dialect(tmp_path: Path) -> None:
    """With Basic auth on, the right password prints and a wrong one is refused; the older ``/requests`` dialect
    prints through the same server."""
    with MockAtolServer(port=0, data_dir=tmp_path / "kkt", user="kassa", password="s3cret") as server:
        wrong = make_driver(server.url, user="kassa", password="nope")
        with pytest.raises(DeviceUnavailable, match="KKT_ATOL_USER"):
            wrong.print_receipt(SALE, idempotency_key="a")
        right = make_driver(server.url, user="kassa", password="s3cret")
        right.print_receipt(SALE, idempotency_key="a")
        legacy = make_driver(server.url, user="kassa", password="s3cret", dialect="legacy")
        legacy.print_receipt(SALE, idempotency_key="b")
        assert len(receipts(server)) == 2
        assert legacy.find_by_key("a") == right.find_by_key("a")
        for made in (wrong, right, legacy):
            made.close()


def test_the_adapter_prints_through_the_atol_emulator(mock_atol_server: MockAtolServer, tmp_path: Path) -> None:
    """``KKT_DRIVER_TYPE=atol`` pointed at the emulator: a sale over the adapter's HTTP API prints on the emulated
    FN, keyed by the job's uuid, and its replay prints nothing more."""
    env = {"KKT_DRIVER_TYPE": "atol", "KKT_ATOL_URL": mock_atol_server.url, "KKT_SYNC_ENABLED": "false"}
    body = bodies.sale("100.50", items=[bodies.item("Товар", "100.50", vat_rate=22)], paid_by="card", pos_id="POS-1")
    with AdapterProcess(tmp_path / "data", env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        first = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": "till-1:0001"})
        assert first.status_code == 200, first.text
        fiscal = first.json()["fiscal_doc"]
        document = mock_atol_server.kkt.find_by_key(job_uuid("till-1:0001", 0))
        assert document is not None
        assert (document.fd_number, document.total_kop, document.doc_type) == (
            fiscal["fiscal_doc_number"],
            10_050,
            DOC_RECEIPT,
        )
        assert fiscal["qr_code_data"] == document.qr
        again = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": "till-1:0001"})
        assert again.content == first.content
        assert len(receipts(mock_atol_server)) == 1
        device = http.get("/v1/health").json()["components"]["device"]
        assert (device["online"], device["fn_number"], device["kkt_number"]) == (
            True,
            document.fn_number,
            document.kkt_reg_number,
        )


def test_an_expired_shift_is_refused_then_the_key_prints_after_the_z_report(tmp_path: Path) -> None:
    """The emulated KKT's shift older than 24 h: the sale is refused ``shift_expired`` (68, as the adapter's auto
    policy expects), and after the Z report the same key prints once, under its next attempt."""
    clock = ManualClock()
    with MockAtolServer(port=0, data_dir=tmp_path / "kkt", clock=clock) as server:
        driver = make_driver(server.url)
        driver.print_receipt(SALE, idempotency_key="first")
        clock.advance(25 * 3600)
        with pytest.raises(DeviceRefused) as expired:
            driver.print_receipt(SALE, idempotency_key="late")
        assert expired.value.code == "shift_expired"
        assert driver.state().shift_expired
        driver.close_shift(idempotency_key="auto-z")
        late = driver.print_receipt(SALE, idempotency_key="late")
        document = server.kkt.find_by_key(job_uuid("late", 1))
        assert document is not None
        assert document.fd_number == late.fiscal_doc_number
        assert len(receipts(server)) == 2
        driver.close()


def batch(*keys: str, bad: str = "") -> list[PrintJob]:
    return [PrintJob(BAD if key == bad else SALE, key) for key in keys]


def fds(outcomes: list[FiscalResult | Exception]) -> list[int | None]:
    return [o.fiscal_doc_number if isinstance(o, FiscalResult) else None for o in outcomes]


def test_a_batch_prints_each_job_once_and_a_refusal_fails_only_its_job(
    mock_atol_server: MockAtolServer, driver: AtolDriver
) -> None:
    """Four sales in one batch, the third refused for its content: the other three print with continuous FD
    numbers, the third alone is refused, and the server saw one job per sale."""
    outcomes = driver.print_batch(batch("k0", "k1", "k2", "k3", bad="k2"))
    assert isinstance(outcomes[2], DeviceRejectedReceipt)
    printed = [fd for fd in fds(outcomes) if fd is not None]
    assert printed == list(range(printed[0], printed[0] + 3))
    assert receipts(mock_atol_server) == printed
    assert mock_atol_server.core.stats()["jobs"].get("error") == 1


def test_a_lost_reply_on_a_post_of_a_batch_prints_once(mock_atol_server: MockAtolServer, driver: AtolDriver) -> None:
    """The answer to the batch's first POST dropped: its uuid is resent, the job found (409), three documents."""
    mock_atol_server.faults.lose_reply(on="post", times=1)
    outcomes = driver.print_batch(batch("k0", "k1", "k2"))
    assert receipts(mock_atol_server) == fds(outcomes)


@pytest.mark.parametrize("printed", [True, False])
def test_a_block_in_a_batch_leaves_it_unknown_and_deletes_the_jobs_behind(
    mock_atol_server: MockAtolServer, printed: bool
) -> None:
    """A batch whose first key printed before, the next job blocked past the timeout: the first is its document,
    the blocked one unknown (never resent), the two behind it deleted by the server (not printed); after the block,
    the retry of the keys prints each once."""
    driver = make_driver(mock_atol_server.url, timeout=3.0)
    first = driver.print_receipt(SALE, idempotency_key="k0")
    mock_atol_server.faults.block(printed=printed, polls=0)
    outcomes = driver.print_batch(batch("k0", "k1", "k2", "k3"))
    assert outcomes[0] == first
    assert isinstance(outcomes[1], AtolOutcomeUnknown)
    for behind in outcomes[2:]:
        assert isinstance(behind, DeviceUnavailable)
        assert behind.code == "queue_blocked"
    assert mock_atol_server.core.stats()["jobs"].get("canceled") == 2
    assert len(receipts(mock_atol_server)) == 1 + printed
    mock_atol_server.faults.clear()
    assert (driver.find_by_key("k1") is not None) is printed
    assert driver.find_by_key("k2") is None
    retry = driver.print_batch(batch("k1", "k2", "k3"))
    assert all(isinstance(outcome, FiscalResult) for outcome in retry)
    assert len(receipts(mock_atol_server)) == 4
    driver.close()


def test_a_batch_resent_after_a_crash_prints_nothing_twice(
    mock_atol_server: MockAtolServer, driver: AtolDriver
) -> None:
    """Two jobs POSTed by a process that died before reading them: the resent batch finds them (409) and prints
    only the third key; resent again, it prints nothing."""
    crashed = make_driver(mock_atol_server.url)
    for key in ("k0", "k1"):
        crashed.transport.submit(job_uuid(key, 0), [receipt_task(SALE)])
    crashed.close()
    outcomes = driver.print_batch(batch("k0", "k1", "k2"))
    assert receipts(mock_atol_server) == fds(outcomes)
    assert driver.print_batch(batch("k0", "k1", "k2")) == outcomes
    assert len(receipts(mock_atol_server)) == 3


def test_concurrent_sales_through_the_adapter_print_once_with_continuous_numbers(
    mock_atol_server: MockAtolServer, tmp_path: Path
) -> None:
    """Sixteen sales from eight concurrent clients through the adapter (printed in batches): each prints once, its
    answer is its document, and the FD numbers run without a gap."""
    env = {"KKT_DRIVER_TYPE": "atol", "KKT_ATOL_URL": mock_atol_server.url, "KKT_SYNC_ENABLED": "false"}
    body = bodies.sale("100.50", items=[bodies.item("Товар", "100.50", vat_rate=22)], paid_by="card", pos_id="POS-1")
    with AdapterProcess(tmp_path / "data", env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:

        def sell(n: int) -> int:
            answer = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": f"till-1:{n:04d}"})
            assert answer.status_code == 200, answer.text
            number: int = answer.json()["fiscal_doc"]["fiscal_doc_number"]
            return number

        with ThreadPoolExecutor(8) as pool:
            numbers = sorted(pool.map(sell, range(16)))
    assert numbers == list(range(numbers[0], numbers[0] + 16))
    assert receipts(mock_atol_server) == numbers
    for n in range(16):
        document = mock_atol_server.kkt.find_by_key(job_uuid(f"till-1:{n:04d}", 0))
        assert document is not None
