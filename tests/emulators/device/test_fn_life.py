"""The FN's life and its exchange with the OFD (fiscal notes, "The FN's life and its exchange with the OFD"): unsent
documents and their acknowledgement, the 30-day rule, the validity date, the archive, and the warnings before each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from kkt_clock import ManualClock
from kkt_emulators.device import (
    DeviceError,
    EmulatedKKT,
    FiscalDocument,
    FNArchiveFull,
    FNBlocked,
    FNExpired,
    FNOfdTimeout,
)
from kkt_emulators.device import fn as fn_rules
from kkt_emulators.device.fn import FNLife, Unsent

from .helpers import DAY, KKTFactory, correction, sale

START = 1_764_504_000.0  # 2025-11-30 15:00 in Moscow
MOSCOW_MIDNIGHT = 1_764_450_000.0  # 2025-11-30 00:00 in Moscow


@pytest.fixture
def clock() -> ManualClock:
    """The device's clock, at 2025-11-30 15:00 Moscow time."""
    return ManualClock(start_wall=START)


@pytest.fixture
def kkt(make_kkt: KKTFactory, clock: ManualClock) -> EmulatedKKT:
    """A device registered on the manual clock's first day (validity: 15 months, to 2027-02-28)."""
    return make_kkt(clock=clock)


def _acknowledge_all(kkt: EmulatedKKT) -> None:
    kkt.acknowledge(range(1, kkt.status().last_fd_number + 1))


# -- unsent documents and acknowledgement ------------------------------------------------------------------------


def test_every_document_starts_unsent(kkt: EmulatedKKT) -> None:
    """Registration, shift opening and receipt are all unsent until the OFD acknowledges them."""
    kkt.print_receipt(sale(), idempotency_key="r")
    status = kkt.fn_status()
    assert (status.documents_count, status.unsent_count, status.first_unsent_fd_number) == (3, 3, 1)
    assert status.first_unsent_at == datetime.fromisoformat("2025-11-30T15:00:00+03:00")
    assert (status.fn_number, status.ffd_version) == (kkt.registration.fn_number, "1.2")
    assert (status.warnings, status.blocked) == ((), None)


def test_acknowledge_counts_changes_ignores_unknown_numbers_and_is_idempotent(kkt: EmulatedKKT) -> None:
    """acknowledge returns how many documents became acknowledged; unknown and repeated numbers change nothing."""
    kkt.print_receipt(sale(), idempotency_key="r")
    assert kkt.acknowledge([1, 2, 99, 0, -5]) == 2
    assert kkt.acknowledge([1, 2]) == 0
    assert kkt.acknowledge(iter([2, 3, 3])) == 1
    assert kkt.acknowledge([]) == 0
    status = kkt.fn_status()
    assert (status.unsent_count, status.first_unsent_fd_number, status.first_unsent_at) == (0, None, None)


def test_acknowledging_out_of_order_leaves_the_first_unsent(kkt: EmulatedKKT) -> None:
    """The first unsent document is the lowest number not acknowledged, whatever order acknowledgements came in."""
    kkt.print_receipt(sale(), idempotency_key="r")
    kkt.acknowledge([3, 1])
    status = kkt.fn_status()
    assert (status.unsent_count, status.first_unsent_fd_number) == (1, 2)


def test_acknowledge_takes_integers_only(kkt: EmulatedKKT) -> None:
    """An FD number is an integer: anything else is a programming error, and nothing is acknowledged."""
    with pytest.raises(TypeError):
        kkt.acknowledge([1, "2"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        kkt.acknowledge([True])
    assert kkt.fn_status().unsent_count == 1


def test_acknowledgements_persist_and_are_seen_by_another_instance(make_kkt: KKTFactory, clock: ManualClock) -> None:
    """An acknowledgement is stored: a second instance and a restarted one see it."""
    first = make_kkt(clock=clock)
    second = make_kkt(clock=clock)
    first.acknowledge([1])
    assert second.fn_status().unsent_count == 0
    first.close()
    assert make_kkt(clock=clock).fn_status().unsent_count == 0


def test_acknowledge_works_with_a_fault_on(kkt: EmulatedKKT) -> None:
    """The OFD's acknowledgement reaches the FN over the KKT's own network: a host-side fault does not stop it."""
    kkt.set_fault("offline")
    assert kkt.acknowledge([1]) == 1


# -- the 30-day rule ---------------------------------------------------------------------------------------------


def test_the_fn_refuses_documents_when_the_first_unsent_is_older_than_30_days(
    kkt: EmulatedKKT, clock: ManualClock
) -> None:
    """At 30 days the FN still signs; a second later it refuses receipts, corrections and both shift reports."""
    kkt.print_receipt(sale(), idempotency_key="r1")
    kkt.close_shift()
    clock.advance(30 * DAY)
    kkt.open_shift()  # exactly 30 days: not yet older than 30 days
    clock.advance(1)
    last = kkt.status().last_fd_number
    attempts: dict[str, Callable[[], FiscalDocument]] = {
        "receipt": lambda: kkt.print_receipt(sale(), idempotency_key="r2"),
        "correction": lambda: kkt.print_correction(correction(), idempotency_key="c"),
        "closing": lambda: kkt.close_shift(),
    }
    for name, attempt in attempts.items():
        with pytest.raises(FNOfdTimeout) as refused:
            attempt()
        assert (refused.value.code, refused.value.printed) == ("fn_ofd_timeout_30_days", False), name
        assert "30" in refused.value.reason
    assert kkt.status().last_fd_number == last
    assert kkt.find_by_key("r2") is None
    status = kkt.fn_status()
    assert (status.blocked, status.first_unsent_fd_number) == ("fn_ofd_timeout_30_days", 1)
    assert "ofd_timeout" in status.warnings


def test_opening_a_shift_is_refused_too(kkt: EmulatedKKT, clock: ManualClock) -> None:
    """With no shift open, the blocked FN refuses the opening report."""
    clock.advance(30 * DAY + 1)
    with pytest.raises(FNOfdTimeout):
        kkt.open_shift()


def test_acknowledging_the_old_documents_lifts_the_block(kkt: EmulatedKKT, clock: ManualClock) -> None:
    """Once every document older than 30 days is acknowledged the FN signs again; a partial one is not enough."""
    kkt.print_receipt(sale(), idempotency_key="r1")  # FD 2 opening, FD 3 receipt
    kkt.close_shift()  # FD 4
    clock.advance(20 * DAY)
    kkt.open_shift()  # FD 5, 20 days later
    clock.advance(10 * DAY + 1)
    with pytest.raises(FNOfdTimeout):
        kkt.print_receipt(sale(), idempotency_key="r2")
    kkt.acknowledge([1, 2])
    with pytest.raises(FNOfdTimeout):  # FD 3 is still unsent and 30 days old
        kkt.print_receipt(sale(), idempotency_key="r2")
    kkt.acknowledge([3, 4])
    kkt.close_shift()  # the open shift is long expired: close it, then sell
    doc = kkt.print_receipt(sale(), idempotency_key="r2")
    assert (doc.fd_number, doc.receipt_number) == (8, 1)
    assert kkt.fn_status().first_unsent_fd_number == 5


def test_the_ofd_timeout_warning_comes_after_25_days(kkt: EmulatedKKT, clock: ManualClock) -> None:
    """Flag 1053 is raised when the first unsent document is older than 25 days, before the block at 30."""
    clock.advance(25 * DAY)
    assert "ofd_timeout" not in kkt.fn_status().warnings
    clock.advance(1)
    assert kkt.fn_status().warnings == ("ofd_timeout",)
    kkt.open_shift()
    assert kkt.close_shift().tags["1053"] is True
    _acknowledge_all(kkt)
    assert kkt.fn_status().warnings == ()


# -- the validity date -------------------------------------------------------------------------------------------


def test_the_validity_date_is_15_calendar_months_from_registration(kkt: EmulatedKKT) -> None:
    """Registered on 2025-11-30, a 15-month FN signs until 2027-02-28 (the 30th does not exist in February)."""
    assert kkt.fn_status().validity_date == date(2027, 2, 28)


def test_fn_life_months_is_a_registration_parameter_kept_by_the_device(
    make_kkt: KKTFactory, clock: ManualClock
) -> None:
    """A 36-month FN is valid until 2028-11-30; reopening with another value keeps the registered one."""
    assert make_kkt(clock=clock, fn_life_months=36).fn_status().validity_date == date(2028, 11, 30)
    assert make_kkt(clock=clock, fn_life_months=15).fn_status().validity_date == date(2028, 11, 30)


def test_after_the_validity_date_the_fn_refuses_all_but_the_closing(make_kkt: KKTFactory, clock: ManualClock) -> None:
    """On its last day the FN signs; the next day it refuses receipts and openings, and still closes the shift."""
    kkt = make_kkt(clock=clock, fn_life_months=1)  # valid until 2025-12-30
    clock.set_wall(MOSCOW_MIDNIGHT + 30 * DAY + DAY - 1)  # 2025-12-30 23:59:59 in Moscow
    _acknowledge_all(kkt)
    kkt.print_receipt(sale(), idempotency_key="last-day")
    clock.advance(1)  # 2025-12-31 00:00:00
    with pytest.raises(FNExpired) as refused:
        kkt.print_receipt(sale(), idempotency_key="too-late")
    assert (refused.value.code, refused.value.printed) == ("fn_expired", False)
    assert "30.12.2025" in refused.value.reason
    with pytest.raises(FNExpired):
        kkt.print_correction(correction(), idempotency_key="c")
    z = kkt.close_shift()
    assert (z.tags["1050"], z.tags["1051"]) == (True, True)
    with pytest.raises(FNExpired):
        kkt.open_shift()
    status = kkt.fn_status()
    assert status.blocked == "fn_expired"
    assert {"resource_exhausted", "replace_soon"} <= set(status.warnings)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (31, ()),
        (30, ("replace_soon",)),
        (4, ("replace_soon",)),
        (3, ("resource_exhausted", "replace_soon")),
        (0, ("resource_exhausted", "replace_soon")),
        (-1, ("resource_exhausted", "replace_soon")),
    ],
)
def test_validity_warnings_by_days_left(days_left: int, expected: tuple[str, ...]) -> None:
    """1051 "replace soon" from 30 days left, 1050 "resource exhausted" from 3 (the validity date itself: 0)."""
    life = FNLife(valid_until=date(2026, 3, 1), capacity=1000)
    today = date.fromordinal(life.valid_until.toordinal() - days_left)
    assert fn_rules.warnings(life, today=today, documents=1, unsent=Unsent(0, None, None), now=0.0) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 11, 30), 15, date(2027, 2, 28)),
        (date(2025, 11, 30), 36, date(2028, 11, 30)),
        (date(2023, 11, 29), 15, date(2025, 2, 28)),
        (date(2022, 11, 29), 15, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 1, 1), 12, date(2026, 1, 1)),
    ],
)
def test_calendar_months(day: date, months: int, expected: date) -> None:
    """Months are calendar months; a day the target month lacks becomes its last day."""
    assert fn_rules.add_months(day, months) == expected


def test_warnings_are_reported_on_the_device(make_kkt: KKTFactory, clock: ManualClock) -> None:
    """fn_status() raises replace_soon 30 days before the validity date (device's local date)."""
    kkt = make_kkt(clock=clock, fn_life_months=2)  # valid until 2026-01-30
    clock.set_wall(MOSCOW_MIDNIGHT + 30 * DAY)  # 2025-12-30: 31 days left
    assert "replace_soon" not in kkt.fn_status().warnings
    clock.advance(DAY)  # 2025-12-31: 30 days left
    assert "replace_soon" in kkt.fn_status().warnings


# -- the archive -------------------------------------------------------------------------------------------------


def test_the_archive_warns_at_90_percent_and_refuses_when_full(make_kkt: KKTFactory, clock: ManualClock) -> None:
    """Capacity 10: flag 1052 from the 9th document; the 11th is refused, nothing printed, a shift closing too."""
    kkt = make_kkt(clock=clock, fn_archive_capacity=10)
    for i in range(6):  # FD 2 opening, FD 3..8 receipts
        kkt.print_receipt(sale(), idempotency_key=f"r{i}")
    assert "memory_nearly_full" not in kkt.fn_status().warnings
    kkt.print_receipt(sale(), idempotency_key="r6")  # FD 9
    assert kkt.fn_status().warnings == ("memory_nearly_full",)
    z = kkt.close_shift()  # FD 10, the last
    assert (z.fd_number, z.tags["1052"]) == (10, True)
    with pytest.raises(FNArchiveFull) as refused:
        kkt.open_shift()
    assert (refused.value.code, refused.value.printed) == ("fn_archive_full", False)
    assert kkt.fn_status().blocked == "fn_archive_full"
    assert kkt.status().last_fd_number == 10


def test_a_receipt_needing_a_shift_opening_is_refused_whole(make_kkt: KKTFactory, clock: ManualClock) -> None:
    """With room for one document, a first receipt (opening + receipt) is refused before anything is printed."""
    kkt = make_kkt(clock=clock, fn_archive_capacity=2)
    with pytest.raises(FNArchiveFull):
        kkt.print_receipt(sale(), idempotency_key="r")
    assert kkt.status().last_fd_number == 1
    assert not kkt.status().shift_open


# -- the error tree ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [(FNOfdTimeout, "fn_ofd_timeout_30_days"), (FNExpired, "fn_expired"), (FNArchiveFull, "fn_archive_full")],
)
def test_fn_refusals_are_device_errors_with_their_own_codes(error: type[FNBlocked], code: str) -> None:
    """Each FN refusal is an FNBlocked, hence a DeviceError, with its stable code and printed=False."""
    exc = error("причина")
    assert isinstance(exc, FNBlocked)
    assert isinstance(exc, DeviceError)
    assert (exc.code, exc.printed, exc.reason) == (code, False, "причина")


@pytest.mark.parametrize(
    "options", [{"fn_life_months": 0}, {"fn_archive_capacity": 1}, {"print_delay_ms": -1}], ids=str
)
def test_impossible_registration_options_are_programming_errors(make_kkt: KKTFactory, options: dict[str, int]) -> None:
    """A life under a month, an archive without room for a second document, a negative delay: ValueError."""
    with pytest.raises(ValueError, match=next(iter(options))):
        make_kkt(**options)
