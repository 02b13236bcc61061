"""The journal keeps each request's idempotency key; faults are persisted where every instance sees them."""

from __future__ import annotations

import pytest

from kkt_emulators.device import DeviceError, DeviceOffline, EmulatedKKT, PaperOut

from .helpers import KKTFactory, sale


def test_repeated_key_returns_the_same_document_without_a_new_fd(kkt: EmulatedKKT) -> None:
    """A retried request (same key) gets the first document back and nothing is printed again."""
    first = kkt.print_receipt(sale(), idempotency_key="order-1")
    again = kkt.print_receipt(sale(), idempotency_key="order-1")
    assert again == first
    assert kkt.status().last_fd_number == first.fd_number
    assert kkt.status().receipts_in_shift == 1


def test_key_is_found_after_a_restart(make_kkt: KKTFactory) -> None:
    """The device's journal answers "was this key printed?" after a restart: what the adapter reconciles from."""
    first = make_kkt()
    doc = first.print_receipt(sale(), idempotency_key="order-1")
    first.close()
    second = make_kkt()
    assert second.find_by_key("order-1") == doc
    assert second.find_by_key("never-sent") is None
    assert second.find_by_number(doc.fd_number) == doc
    assert second.find_by_number(10_000) is None
    assert second.print_receipt(sale(), idempotency_key="order-1") == doc


def test_journal_pages_ascending_by_fd(kkt: EmulatedKKT) -> None:
    """journal(after_fd, limit) pages through documents in ascending FD order."""
    for i in range(5):
        kkt.print_receipt(sale(), idempotency_key=f"k-{i}")
    assert [doc.fd_number for doc in kkt.journal(after_fd=2, limit=3)] == [3, 4, 5]
    assert [doc.fd_number for doc in kkt.journal(after_fd=5)] == [6, 7]
    assert [doc.idempotency_key for doc in kkt.journal(after_fd=2, limit=2)] == ["k-0", "k-1"]


@pytest.mark.parametrize(
    ("fault", "error", "code"), [("paper_out", PaperOut, "paper_out"), ("offline", DeviceOffline, "offline")]
)
def test_fault_refuses_prints_with_nothing_printed(
    kkt: EmulatedKKT, fault: str, error: type[DeviceError], code: str
) -> None:
    """With a fault on, receipts and reports fail with the fault's code and a reason; no FD number is used."""
    kkt.set_fault(fault, True)  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        kkt.print_receipt(sale(), idempotency_key="k")
    assert (caught.value.code, caught.value.printed) == (code, False)
    assert caught.value.reason
    with pytest.raises(error):
        kkt.open_shift()
    assert kkt.status().last_fd_number == 1
    assert kkt.find_by_key("k") is None
    kkt.set_fault(fault, False)  # type: ignore[arg-type]
    assert kkt.print_receipt(sale(), idempotency_key="k").fd_number == 3


def test_faults_are_persisted_and_seen_by_a_second_instance(make_kkt: KKTFactory) -> None:
    """A fault set through one instance is seen by another on the same directory at its next call, and cleared too."""
    a = make_kkt()
    b = make_kkt()
    a.set_fault("paper_out")
    status = b.status()
    assert (status.paper, status.online) == (False, True)
    with pytest.raises(PaperOut):
        b.print_receipt(sale(), idempotency_key="k")
    b.set_fault("offline")
    assert not a.status().online
    b.clear_faults()
    assert a.print_receipt(sale(), idempotency_key="k").receipt_number == 1


def test_faults_survive_a_restart(make_kkt: KKTFactory) -> None:
    """A fault switched on stays on after the device is closed and reopened."""
    first = make_kkt()
    first.set_fault("offline")
    first.close()
    assert not make_kkt().status().online


def test_replay_of_a_printed_key_succeeds_even_with_a_fault(kkt: EmulatedKKT) -> None:
    """The journal answers for a key already printed even while the paper is out: nothing needs printing."""
    doc = kkt.print_receipt(sale(), idempotency_key="k")
    kkt.set_fault("paper_out")
    assert kkt.print_receipt(sale(), idempotency_key="k") == doc


def test_unknown_fault_is_a_programming_error(kkt: EmulatedKKT) -> None:
    """set_fault takes only the faults the device knows."""
    with pytest.raises(ValueError, match="unknown fault"):
        kkt.set_fault("jam")  # type: ignore[arg-type]
