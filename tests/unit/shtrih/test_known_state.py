"""A receipt after a good one sends only its own commands (8Dh, FF01h with the receipt open, FF46h, FF0Ch, FF45h):
what proves each skipped read, and that the FN still decides when another program prints on the same KKT between
ours (here over the KKT's serial port), when the KKT is not in the state our last print left, when an answer is
lost, and when the key's "printed" record is lost in a power cut."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kkt_adapter.devices.shtrih import ShtrihDriver, connect, keys
from kkt_adapter.domain.errors import DeviceRefused
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Cashier, Item, Payment, Receipt
from kkt_clock import SystemClock
from kkt_emulators.shtrih import MockShtrihServer


def sale(total: int) -> Receipt:
    """A one-line cash sale of ``total`` kopecks, with a cashier."""
    item = Item("Хлеб", total, Decimal(1), total, 11)
    return Receipt("pos-1", "sale", (item,), (Payment("cash", total),), cashier=Cashier("Петрова П."))  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockShtrihServer]:
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt", pty_path=tmp_path / "tty") as kkt:
        yield kkt


def ours(server: MockShtrihServer, state: Path) -> ShtrihDriver:
    """This adapter's driver: TCP, v2; the shift open (a receipt in a closed shift would open it: two documents)."""
    driver = connect(server.url, state, clock=SystemClock(), protocol="v2", byte_timeout=0.1, answer_timeout=0.3)
    if not server.kkt.status().shift_open:
        driver.open_shift(idempotency_key="shift")
    return driver


@pytest.fixture
def other(server: MockShtrihServer, tmp_path: Path) -> Iterator[ShtrihDriver]:
    """Another program on the same KKT, over its serial port (v1), with keys of its own."""
    url = f"serial://{tmp_path / 'tty'}?baud=115200"
    driver = connect(url, tmp_path / "other", clock=SystemClock(), protocol="v1", answer_timeout=0.5)
    yield driver
    driver.close()


def commands_of(server: MockShtrihServer) -> list[str]:
    """From now on, the commands the KKT executes, as hex (``8d``, ``ff01``...), in order."""
    seen: list[str] = []
    original = server.machine.execute

    def recording(message: bytes) -> bytes:
        seen.append(message[:2].hex() if message[0] == 0xFF else message[:1].hex())
        return original(message)

    server.machine.execute = recording  # type: ignore[method-assign]
    return seen


def lose_close_answers(server: MockShtrihServer) -> None:
    """The next FF45h is executed and every answer to it lost, its v2 repeats' too: the driver must ask the FN."""
    original = server.machine.execute

    def arming(message: bytes) -> bytes:
        if message.startswith(b"\xff\x45"):
            server.faults.program(lose_answer=3)
            server.machine.execute = original  # type: ignore[method-assign]
        return original(message)

    server.machine.execute = arming  # type: ignore[method-assign]


def assert_in_fn(server: MockShtrihServer, result: FiscalResult, total: int, *, numbers: bool = True) -> None:
    """``result`` is a document of the FN with that total and sign (and its shift and receipt numbers)."""
    document = server.kkt.find_by_number(result.fiscal_doc_number)
    assert document is not None and document.total_kop == total
    assert str(document.fiscal_sign) == result.fiscal_sign
    if numbers:
        assert (result.shift_number, result.receipt_number) == (document.tags["1038"], document.tags["1042"])


def test_a_receipt_after_a_good_one_sends_only_its_own_commands(server: MockShtrihServer, tmp_path: Path) -> None:
    """The first receipt after a shift document prepares the KKT (10h) and reads the shift (FF40h); the next ones do
    neither, and their shift and receipt numbers, derived, are the FN's."""
    driver = ours(server, tmp_path / "state")
    seen = commands_of(server)
    first = driver.print_receipt(sale(100), idempotency_key="k1")
    assert seen == ["10", "8d", "ff01", "ff46", "ff0c", "ff45", "ff40"]
    seen.clear()
    results = [driver.print_receipt(sale(200 + n), idempotency_key=f"k{n + 2}") for n in range(3)]
    assert seen == ["8d", "ff01", "ff46", "ff0c", "ff45"] * 3
    for n, result in enumerate([first, *results]):
        assert_in_fn(server, result, 100 if n == 0 else 200 + n - 1)
    assert [r.receipt_number for r in results] == [first.receipt_number + 1 + n for n in range(3)]
    driver.close()


def test_another_programs_documents_between_ours_are_read_not_derived(
    server: MockShtrihServer, tmp_path: Path, other: ShtrihDriver
) -> None:
    """Another program prints a receipt, then closes the shift and opens a new one, between ours: our next receipts
    read the shift (FF40h) and carry the FN's numbers; the one after derives again."""
    driver = ours(server, tmp_path / "state")
    driver.print_receipt(sale(100), idempotency_key="k1")
    other.print_receipt(sale(100), idempotency_key="o1")
    seen = commands_of(server)
    second = driver.print_receipt(sale(100), idempotency_key="k2")
    assert "ff40" in seen and "10" not in seen
    assert_in_fn(server, second, 100)
    other.close_shift(idempotency_key="oz")
    other.open_shift(idempotency_key="oo")
    third = driver.print_receipt(sale(300), idempotency_key="k3")
    assert_in_fn(server, third, 300)
    assert third.shift_number == second.shift_number + 1 and third.receipt_number == 1
    seen.clear()
    fourth = driver.print_receipt(sale(400), idempotency_key="k4")
    assert seen == ["8d", "ff01", "ff46", "ff0c", "ff45"]
    assert_in_fn(server, fourth, 400)
    driver.close()


@pytest.mark.parametrize("identical", [True, False])
def test_a_lost_close_answer_after_another_programs_receipt_answers_ours(
    server: MockShtrihServer, tmp_path: Path, other: ShtrihDriver, identical: bool
) -> None:
    """Another program prints a receipt (the same total as ours, or not) after our good one; our next FF45h's answers
    are all lost. The FN's last FD read with our receipt open is the other program's, so ours is the next: that one
    is answered, never the other's, and nothing is printed twice."""
    driver = ours(server, tmp_path / "state")
    driver.print_receipt(sale(500), idempotency_key="k1")
    theirs = other.print_receipt(sale(500 if identical else 700), idempotency_key="o1")
    lose_close_answers(server)
    result = driver.print_receipt(sale(500), idempotency_key="k2")
    assert result.fiscal_doc_number == theirs.fiscal_doc_number + 1 == server.kkt.status().last_fd_number
    assert_in_fn(server, result, 500)
    assert driver.print_receipt(sale(500), idempotency_key="k2") == result
    assert server.kkt.status().last_fd_number == result.fiscal_doc_number
    driver.close()


@pytest.mark.parametrize("left", ["open receipt", "print stopped"])
def test_a_kkt_not_as_our_last_print_left_it_is_prepared_and_the_receipt_opened_again(
    server: MockShtrihServer, tmp_path: Path, left: str
) -> None:
    """After our good receipt, a receipt is left open by another program, or a print waits for B0h: our 8Dh is
    refused, the KKT is prepared (88h or B0h) and 8Dh sent again (it makes no document); one receipt, ours."""
    driver = ours(server, tmp_path / "state")
    first = driver.print_receipt(sale(100), idempotency_key="k1")
    if left == "open receipt":
        server.machine.execute(b"\x8d" + (1).to_bytes(4, "little") + b"\x00")
    else:
        server.machine.submode = 3
    seen = commands_of(server)
    result = driver.print_receipt(sale(200), idempotency_key="k2")
    assert seen[:2] == ["8d", "10"] and seen.count("8d") == 2
    assert ("88" if left == "open receipt" else "b0") in seen
    assert result.fiscal_doc_number == first.fiscal_doc_number + 1
    assert_in_fn(server, result, 200)
    driver.close()


def test_a_failure_on_the_line_makes_the_next_receipt_check_the_kkt(server: MockShtrihServer, tmp_path: Path) -> None:
    """A state read whose answers never come (the KKT silent) between two receipts: the next one starts with 10h."""
    driver = ours(server, tmp_path / "state")
    driver.print_receipt(sale(100), idempotency_key="k1")
    server.faults.program(silence=3)
    assert not driver.state().online
    seen = commands_of(server)
    driver.print_receipt(sale(200), idempotency_key="k2")
    assert seen[0] == "10"
    driver.close()


def test_a_lost_printed_record_settles_to_our_document_after_a_restart(
    server: MockShtrihServer, tmp_path: Path, other: ShtrihDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One fsync per receipt (its "printing" record). A power cut loses the unsynced "printed" record, and another
    program prints the same receipt before the adapter is back: the key settles to its own FD, not the other's, and
    its sale is not printed again."""
    state = tmp_path / "state"
    driver = ours(server, state)
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(keys.os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))
    result = driver.print_receipt(sale(900), idempotency_key="k1")
    assert len(fsyncs) == 1
    driver.close()
    lines = (state / keys.FILE_NAME).read_text(encoding="utf-8").splitlines()
    assert '"printed"' in lines[-1]
    (state / keys.FILE_NAME).write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # the power cut
    theirs = other.print_receipt(sale(900), idempotency_key="o1")
    restarted = ours(server, state)
    settled = restarted.find_by_key("k1")
    assert settled is not None and settled.fiscal_doc_number == result.fiscal_doc_number != theirs.fiscal_doc_number
    assert settled.fiscal_sign == result.fiscal_sign
    assert restarted.print_receipt(sale(900), idempotency_key="k1").fiscal_doc_number == result.fiscal_doc_number
    assert server.kkt.status().last_fd_number == theirs.fiscal_doc_number
    restarted.close()


def test_a_refusal_after_the_key_was_recorded_is_fsynced(
    server: MockShtrihServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paper runs out before the close: nothing made, the key's "refused" record is fsynced like its "printing"
    one (lost, a later document at the recorded number + 1 could be taken for this key's)."""
    driver = ours(server, tmp_path / "state")
    driver.print_receipt(sale(100), idempotency_key="k1")
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(keys.os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))
    original = server.machine.execute

    def paper_ends_at_the_close(message: bytes) -> bytes:
        if message.startswith(b"\xff\x45"):
            server.faults.program(paper_out=True)
        return original(message)

    server.machine.execute = paper_ends_at_the_close  # type: ignore[method-assign]
    with pytest.raises(DeviceRefused):
        driver.print_receipt(sale(200), idempotency_key="k2")
    assert len(fsyncs) == 2 and driver.keys.get("k2") is not None
    assert driver.keys.get("k2").state == "refused"  # type: ignore[union-attr]
    driver.close()
