"""Health's 30-day watch and delivery reasons in both delivery modes (the pure rules of ``status/health.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from health_support import inputs

from kkt_adapter.status.health import DAY, age_since, assess


def test_device_mode_watches_the_fns_first_unsent_document() -> None:
    """In device mode the FN's first unsent document, not the buffer's oldest row, decides the 30-day verdict."""
    verdict, reasons = assess(
        inputs(sync_mode="device", fn_status_known=True, fn_first_unsent_age_s=31 * DAY, oldest_unsynced_age_s=60)
    )
    assert verdict == "unhealthy"
    assert reasons == ["the fiscal drive's first unsent document is 31.0 days old: the FN blocks the KKT at 30 days"]
    verdict, reasons = assess(inputs(sync_mode="device", fn_status_known=True, fn_first_unsent_age_s=26 * DAY))
    assert (verdict, reasons) == (
        "degraded",
        ["the fiscal drive's first unsent document is 26.0 days old (warning after 25)"],
    )


def test_device_mode_ignores_an_old_buffer_row_the_fn_no_longer_counts() -> None:
    """A buffer row 40 days old is not a 30-day alarm in device mode when the FN has nothing unsent."""
    assert assess(inputs(sync_mode="device", fn_status_known=True, oldest_unsynced_age_s=40 * DAY)) == ("healthy", [])


def test_device_mode_judges_by_the_buffer_until_the_fn_has_answered() -> None:
    """A device that never answered leaves the buffer's oldest row as the only bound on the 30-day rule."""
    verdict, reasons = assess(inputs(sync_mode="device", oldest_unsynced_age_s=31 * DAY, fn_read_error="offline"))
    assert verdict == "unhealthy"
    assert reasons[0] == "oldest unsynced receipt is 31.0 days old: the FN blocks the KKT at 30 days"


def test_http_mode_keeps_the_buffers_oldest_row_and_ignores_the_fns_age() -> None:
    """In http mode the verdict is the buffer's, as before; the FN's age is shown, not judged."""
    verdict, reasons = assess(inputs(oldest_unsynced_age_s=31 * DAY, fn_first_unsent_age_s=1.0))
    assert verdict == "unhealthy"
    assert reasons == ["oldest unsynced receipt is 31.0 days old: the FN blocks the KKT at 30 days"]
    assert assess(inputs(fn_first_unsent_age_s=40 * DAY, fn_read_error="offline")) == ("healthy", [])


def test_device_mode_says_why_its_poll_failed_and_names_a_replaced_fn() -> None:
    """An unreadable exchange status and a replaced FN's documents degrade health, each with its reason."""
    verdict, reasons = assess(
        inputs(
            sync_mode="device",
            last_exchange_ok=False,
            fn_read_error="DeviceUnavailable: device offline",
            untracked={"9999078900001234": 3},
        )
    )
    assert verdict == "degraded"
    assert reasons == [
        "the KKT's OFD exchange status could not be read at the last poll (DeviceUnavailable: device offline): "
        "documents it delivers stay pending until it answers",
        "3 unsent documents of fiscal drive 9999078900001234, which the KKT no longer has, are not tracked: "
        "confirm their delivery in the OFD's account",
    ]
    assert "OFD unreachable at the last exchange" not in reasons


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-01-31T12:00:00+03:00", 3600.0),
        ("2026-01-31T12:00:00", 3600.0),  # no offset: the store's time zone
        (None, None),
        ("not a date", None),
    ],
)
def test_the_age_of_a_device_date_time(moment: str | None, expected: float | None) -> None:
    """A device date-time is read with its offset, or in the store's zone without one; an unreadable one has no age."""
    now = datetime(2026, 1, 31, 10, 0, tzinfo=UTC).timestamp()
    assert age_since(moment, now=now, tz=ZoneInfo("Europe/Moscow")) == expected
