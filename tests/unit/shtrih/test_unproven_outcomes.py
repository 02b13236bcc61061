"""Prints whose outcome the answer did not give: another key's print never takes their place, a document signed
before the line failed is never reported as "nothing printed", and the registers never stop a Z report."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kkt_adapter.devices.shtrih import ShtrihDriver, connect
from kkt_adapter.devices.shtrih.errors import refusal
from kkt_adapter.domain.errors import OutcomeUnknown, may_move
from kkt_adapter.domain.receipt import Cashier, Item, Payment, Receipt
from kkt_clock import SystemClock
from kkt_emulators.shtrih import MockShtrihServer


def sale(total: int = 100) -> Receipt:
    item = Item("Хлеб", total, Decimal(1), total, 11)
    return Receipt("pos-1", "sale", (item,), (Payment("cash", total),), cashier=Cashier("Петрова П."))  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockShtrihServer]:
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt") as kkt:
        yield kkt


@pytest.fixture
def driver(server: MockShtrihServer, tmp_path: Path) -> Iterator[ShtrihDriver]:
    made = connect(
        server.url, tmp_path / "state", clock=SystemClock(), protocol="v2", byte_timeout=0.05, answer_timeout=0.2
    )
    yield made
    made.close()


def silence_after(server: MockShtrihServer, command: bytes) -> None:
    """The KKT executes the next ``command`` and answers it; every request after it goes unheard (until cleared)."""
    machine = server.machine
    original = machine.execute

    def arming(message: bytes) -> bytes:
        answer = original(message)
        if message.startswith(command):
            server.faults.program(silence=40)
            machine.execute = original  # type: ignore[method-assign]
        return answer

    machine.execute = arming  # type: ignore[method-assign]


def receipts(server: MockShtrihServer) -> list[int]:
    journal = server.kkt.journal(limit=100)
    return [document.fd_number for document in journal if document.doc_type == 3]


@pytest.mark.parametrize("shift_open", [True, False])
def test_a_print_left_unproven_is_settled_before_the_next_key_prints(
    server: MockShtrihServer, driver: ShtrihDriver, shift_open: bool
) -> None:
    """Key A's close never reaches the KKT and the line dies (outcome unknown, A's receipt open on the KKT). The line
    comes back and key B, same total, prints: A is settled first (nothing made: refused), so B's document — at A's
    number, or after the shift's opening — is never taken for A's."""
    if shift_open:
        driver.open_shift(idempotency_key="shift")
    silence_after(server, b"\xff\x0c")  # the cashier's TLV, the command before FF45h
    with pytest.raises(OutcomeUnknown):
        driver.print_receipt(sale(), idempotency_key="A")
    server.faults.clear()
    b = driver.print_receipt(sale(), idempotency_key="B")
    assert driver.find_by_key("A") is None, "A was never made: B's document is not A's"
    assert receipts(server) == [b.fiscal_doc_number]


def test_a_document_signed_before_the_line_failed_is_never_nothing_printed(
    server: MockShtrihServer, driver: ShtrihDriver
) -> None:
    """FF45h answered (the receipt is in the FN), then the line dies before the reads that complete the answer: the
    outcome is unknown (the same key settles it later), never a refusal that would let the sale move to another
    KKT and print twice."""
    driver.open_shift(idempotency_key="shift")
    silence_after(server, b"\xff\x45")
    with pytest.raises(OutcomeUnknown) as raised:
        driver.print_receipt(sale(), idempotency_key="A")
    assert not may_move(raised.value)
    server.faults.clear()
    (made,) = receipts(server)
    result = driver.print_receipt(sale(), idempotency_key="A")
    assert result.fiscal_doc_number == made and receipts(server) == [made]


def test_registers_that_cannot_be_read_leave_the_z_report_without_totals(
    driver: ShtrihDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KKT that refuses 1Bh (model-dependent registers): the Z report closes the shift, without totals."""
    driver.open_shift(idempotency_key="shift")
    driver.print_receipt(sale(), idempotency_key="s1")

    def refused(number: int) -> int:
        raise refusal(0x37, 0x1B)

    monkeypatch.setattr(driver.device, "operating_register", refused)
    closed, report = driver.close_shift(idempotency_key="z")
    assert closed.doc_type == 5 and not driver.device.shift().open
    assert (report.receipts, report.totals_by_operation) == (1, {})


@pytest.mark.parametrize("theirs", ["receipt", "shift"])
def test_a_print_the_fn_cannot_prove_stays_unknown_for_good(
    server: MockShtrihServer, driver: ShtrihDriver, tmp_path: Path, theirs: str
) -> None:
    """Key A's outcome unknown; another program then cancels A's open receipt and prints its own receipt (another
    total), or only opens the shift (A was the morning's first sale). Before key B prints, A is judged once: the
    document after A's number is not A's, so A is recorded unknown — and stays so after B's document (same total as
    A; after a shift's opening, where a sale that opened the shift itself would be) follows, also for a driver
    started afresh on the same files."""
    if theirs == "receipt":
        driver.open_shift(idempotency_key="shift")
    silence_after(server, b"\xff\x0c")
    with pytest.raises(OutcomeUnknown):
        driver.print_receipt(sale(), idempotency_key="A")
    server.faults.clear()
    other = connect(server.url, tmp_path / "other", clock=SystemClock(), protocol="v2", answer_timeout=0.5)
    if theirs == "receipt":
        other.print_receipt(sale(777), idempotency_key="theirs")  # its preparation cancels A's receipt
    else:
        other.open_shift(idempotency_key="theirs")
    other.close()
    b = driver.print_receipt(sale(), idempotency_key="B")
    afresh = connect(server.url, tmp_path / "state", clock=SystemClock(), answer_timeout=0.5)
    try:
        for judge in (driver, afresh):
            with pytest.raises(OutcomeUnknown):
                judge.find_by_key("A")
            assert judge.find_by_key("B") == b
    finally:
        afresh.close()
