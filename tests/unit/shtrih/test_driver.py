"""The Shtrih-M driver against the emulated KKT over real TCP (and a pty): every print, the exactly-once rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from kkt_adapter.devices.shtrih import ShtrihDriver, connect
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import DeviceRefused, ShiftConflict
from kkt_adapter.domain.receipt import Cashier, Item, Payment, Receipt
from kkt_clock import SystemClock
from kkt_emulators.shtrih import MockShtrihServer


def sale(total: int = 10_000, *, operation: str = "sale", vat: int = 11) -> Receipt:
    item = Item("Молоко «Домик»", total, Decimal(1), total, vat)
    return Receipt("pos-1", operation, (item,), (Payment("cash", total),), cashier=Cashier("Иванова И."))  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockShtrihServer]:
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt", pty_path=tmp_path / "tty") as kkt:
        yield kkt


def make(server: MockShtrihServer, tmp_path: Path, protocol: str = "auto", url: str | None = None) -> ShtrihDriver:
    return connect(
        url or server.url,
        tmp_path / "state",
        clock=SystemClock(),
        protocol=protocol,
        byte_timeout=0.15,
        answer_timeout=0.5,
        paper_wait_s=0.5,
    )


@pytest.mark.parametrize("protocol", ["v1", "v2", "auto"])
def test_a_sale_prints_once_per_key(server: MockShtrihServer, tmp_path: Path, protocol: str) -> None:
    """A sale answers its FD, sign and QR; the same key again returns it and prints nothing."""
    driver = make(server, tmp_path, protocol)
    result = driver.print_receipt(sale(), idempotency_key="k1")
    document = server.kkt.find_by_number(result.fiscal_doc_number)
    assert document is not None and str(document.fiscal_sign) == result.fiscal_sign
    assert document.tags["1021"] == "Иванова И." and document.tags["1059"][0]["1199"] == 11
    assert f"i={result.fiscal_doc_number}&fp={result.fiscal_sign}&n=1" in result.qr_code_data
    last = server.kkt.status().last_fd_number
    assert driver.print_receipt(sale(), idempotency_key="k1") == result
    assert server.kkt.status().last_fd_number == last
    assert driver.find_by_key("k1") == result
    driver.close()


def test_the_day_over_a_pty(server: MockShtrihServer, tmp_path: Path) -> None:
    """Over the serial path (a real tty): shift, sales, a refund, a correction, X, Z; FD numbers continuous."""
    driver = make(server, tmp_path, "v1", url=f"serial://{tmp_path / 'tty'}?baud=115200")
    opened = driver.open_shift(idempotency_key="open")
    numbers = [driver.print_receipt(sale(100 + n), idempotency_key=f"s{n}").fiscal_doc_number for n in range(5)]
    refund = driver.print_receipt(sale(100, operation="refund"), idempotency_key="r1")
    correction = Correction(sale(500), "self", date(2026, 12, 1))  # type: ignore[arg-type]
    fixed = driver.print_correction(correction, idempotency_key="c1")
    driver.print_x_report()
    closed, report = driver.close_shift(idempotency_key="z")
    assert [opened.fiscal_doc_number, *numbers, refund.fiscal_doc_number, fixed.fiscal_doc_number] == list(
        range(opened.fiscal_doc_number, closed.fiscal_doc_number)
    )
    assert (fixed.doc_type, closed.doc_type, report.receipts) == (31, 5, 7)
    with pytest.raises(ShiftConflict):
        driver.close_shift(idempotency_key="z2")
    driver.close()


def test_lost_answer_on_close_leaves_one_document(server: MockShtrihServer, tmp_path: Path) -> None:
    """v1: FF45h's answer lost and the line dropped; the driver reads the FN and answers the one document."""
    driver = make(server, tmp_path, "v1")
    driver.open_shift(idempotency_key="open")
    before = server.kkt.status().last_fd_number
    _arm_on(server, "disconnect")
    result = driver.print_receipt(sale(), idempotency_key="lost")
    assert result.fiscal_doc_number == before + 1
    assert server.kkt.status().last_fd_number == before + 1
    assert driver.print_receipt(sale(), idempotency_key="lost") == result
    driver.close()


def test_lost_answer_on_the_sale_that_opened_the_shift(server: MockShtrihServer, tmp_path: Path) -> None:
    """The morning's first sale with the shift closed: the KKT opens the shift itself, so the FN holds the shift's
    opening and then the receipt; FF45h's answer lost, the driver answers the receipt, and the key replays it."""
    driver = make(server, tmp_path, "v1")
    before = server.kkt.status().last_fd_number
    assert not server.kkt.status().shift_open
    _arm_on(server, "disconnect")
    result = driver.print_receipt(sale(), idempotency_key="morning")
    assert server.kkt.status().last_fd_number == result.fiscal_doc_number == before + 2
    assert result.doc_type == 3 and server.kkt.status().shift_open
    assert driver.print_receipt(sale(), idempotency_key="morning") == result
    assert server.kkt.status().last_fd_number == before + 2
    driver.close()


def test_lost_answers_on_v2_replay_without_a_second_document(server: MockShtrihServer, tmp_path: Path) -> None:
    """v2: FF45h's answer lost; the repeat of its packet number returns it, no second receipt."""
    driver = make(server, tmp_path, "v2")
    driver.open_shift(idempotency_key="open")
    before = server.kkt.status().last_fd_number
    _arm_on(server, "lose_answer")
    result = driver.print_receipt(sale(), idempotency_key="v2lost")
    assert result.fiscal_doc_number == before + 1 == server.kkt.status().last_fd_number
    driver.close()


def test_paper_out_during_close_answers_the_original(server: MockShtrihServer, tmp_path: Path) -> None:
    """The paper ends while FF45h prints: the FN holds the receipt; the driver answers it, continues with B0h when
    the paper is back, and the next sale prints normally."""
    driver = make(server, tmp_path, "v1")
    driver.open_shift(idempotency_key="open")
    before = server.kkt.status().last_fd_number
    server.faults.program(paper_out_in_close=1)
    result = driver.print_receipt(sale(), idempotency_key="paper")
    assert result.fiscal_doc_number == before + 1
    assert server.machine.submode == 2
    server.faults.program(paper_out=False)
    nxt = driver.print_receipt(sale(200), idempotency_key="after")
    assert nxt.fiscal_doc_number == before + 2 and server.machine.submode == 0
    driver.close()


def test_paper_out_before_is_a_definite_refusal(server: MockShtrihServer, tmp_path: Path) -> None:
    """No paper before the receipt: DeviceRefused paper_out, nothing printed, no receipt left open."""
    driver = make(server, tmp_path, "v1")
    before = server.kkt.status().last_fd_number
    server.faults.program(paper_out=True)
    with pytest.raises(DeviceRefused) as refused:
        driver.print_receipt(sale(), idempotency_key="np")
    assert refused.value.code == "paper_out"
    assert server.kkt.status().last_fd_number == before and server.machine.receipt is None
    server.faults.program(paper_out=False)
    assert driver.print_receipt(sale(), idempotency_key="np").fiscal_doc_number == before + 2  # with its shift
    driver.close()


def test_an_open_receipt_after_a_crash_is_cancelled_first(server: MockShtrihServer, tmp_path: Path) -> None:
    """A receipt left open (8Dh, an item, then the host died) is cancelled before the next print."""
    driver = make(server, tmp_path, "v1")
    driver.open_shift(idempotency_key="open")
    server.machine.execute(b"\x8d" + (1).to_bytes(4, "little") + b"\x00")
    result = driver.print_receipt(sale(300), idempotency_key="fresh")
    document = server.kkt.find_by_number(result.fiscal_doc_number)
    assert document is not None and document.total_kop == 300
    driver.close()


def test_state_and_fn_status(server: MockShtrihServer, tmp_path: Path) -> None:
    """state() and fn_status() read the KKT: shift, FD count, FN number, unsent documents."""
    driver = make(server, tmp_path)
    driver.print_receipt(sale(), idempotency_key="a")
    state = driver.state()
    assert state.online and state.paper and state.shift_open and state.kkt_number
    assert state.last_fd_number == server.kkt.status().last_fd_number
    fn = driver.fn_status()
    assert fn.fn_number == server.kkt.registration.fn_number and fn.unsent_count >= 2
    journal = driver.journal(after_fd=1, limit=10)
    assert [entry.key for entry in journal] == [None, "a"]
    driver.close()


def _arm_on(server: MockShtrihServer, fault: str, *, command: bytes = b"\xff\x45") -> None:
    """Arm ``fault`` while the KKT executes the next ``command`` (FF45h by default): it fires on that request."""
    machine = server.machine
    original = machine.execute

    def arming(message: bytes) -> bytes:
        if message.startswith(command):
            server.faults.program(**{fault: 1})
            machine.execute = original  # type: ignore[method-assign]
        return original(message)

    machine.execute = arming  # type: ignore[method-assign]
