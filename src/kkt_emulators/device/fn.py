"""The fiscal drive's life and its exchange with the OFD, as pure rules over a few numbers (no I/O).

Fiscal notes, "The FN's life and its exchange with the OFD":

- Every document stays unsent until the OFD acknowledges it. When the first unsent one is older than 30 days the FN
  refuses new documents (:class:`FNOfdTimeout`) until the OFD has acknowledged; flag 1053 ("ofd_timeout") is raised
  before, from :data:`OFD_WARN_DAYS` (25 days, the adapter's default warning age too).
- The FN signs until its validity date: a number of calendar months from the registration (15 by default), then
  refuses documents (:class:`FNExpired`, ATOL error 120) but the closing of the shift still open. Flags 1051
  ("replace_soon") from 30 days left and 1050 ("resource_exhausted") from 3 days left.
- Its archive holds a fixed number of documents: flag 1052 ("memory_nearly_full") from 90% of it; when the next
  document would not fit, :class:`FNArchiveFull` (ATOL error 121).

The 30-day and 25-day ages are measured on the device's clock from the first unsent document's time; "days left"
counts calendar days in the device's time zone, the validity date itself being the last day the FN signs.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from kkt_emulators.device.errors import FNArchiveFull, FNBlocked, FNExpired, FNOfdTimeout
from kkt_emulators.device.models import FN_WARNING_FLAGS

DAY = 24 * 3600
OFD_TIMEOUT_DAYS = 30
OFD_WARN_DAYS = 25
REPLACE_SOON_DAYS = 30
EXHAUSTED_DAYS = 3
MEMORY_WARN_PERCENT = 90
DEFAULT_LIFE_MONTHS = 15
DEFAULT_ARCHIVE_CAPACITY = 250_000


@dataclass(frozen=True)
class FNLife:
    """What the FN's model and its registration fix: the last day it signs, and how many documents it holds."""

    valid_until: date
    capacity: int


@dataclass(frozen=True)
class Unsent:
    """The documents the OFD has not acknowledged: how many, and the first of them (number, Unix time)."""

    count: int
    first_fd: int | None
    first_at: float | None


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months; the 31st becomes the last day of a shorter month (2025-11-30 + 3 → 2026-02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def warnings(life: FNLife, *, today: date, documents: int, unsent: Unsent, now: float) -> tuple[str, ...]:
    """The FN's warnings now, in :data:`FN_WARNING_FLAGS` order (the order of their flag tags, 1050–1053)."""
    days_left = (life.valid_until - today).days
    raised = {
        "resource_exhausted": days_left <= EXHAUSTED_DAYS,
        "replace_soon": days_left <= REPLACE_SOON_DAYS,
        "memory_nearly_full": documents * 100 >= life.capacity * MEMORY_WARN_PERCENT,
        "ofd_timeout": unsent.first_at is not None and now - unsent.first_at > OFD_WARN_DAYS * DAY,
    }
    return tuple(name for name in FN_WARNING_FLAGS if raised[name])


def flags(raised: tuple[str, ...]) -> dict[str, bool]:
    """The Z report's FN flags: ``{"1050": …, "1051": …, "1052": …, "1053": …}`` from :func:`warnings`."""
    return {tag: name in raised for name, tag in FN_WARNING_FLAGS.items()}


def refusal(
    life: FNLife,
    *,
    today: date,
    documents: int,
    needed: int,
    unsent: Unsent,
    now: float,
    tz: tzinfo,
    closing: bool = False,
) -> FNBlocked | None:
    """The error the FN refuses ``needed`` new documents with, or None if it takes them.

    ``documents`` is the number already in the archive (the last FD number); ``closing`` is True for the Z report,
    which an expired FN still takes (the last shift of its life must be closed).
    """
    if today > life.valid_until and not closing:
        return FNExpired(
            f"Срок действия ФН истёк {life.valid_until:%d.%m.%Y}: замените фискальный накопитель (ошибка 120)"
        )
    if documents + needed > life.capacity:
        return FNArchiveFull(
            f"Архив ФН заполнен ({documents} из {life.capacity} документов): замените фискальный накопитель "
            "(ошибка 121)"
        )
    if unsent.first_at is not None and now - unsent.first_at > OFD_TIMEOUT_DAYS * DAY:
        since = datetime.fromtimestamp(unsent.first_at, tz)
        return FNOfdTimeout(
            f"ФН заблокирован: документ № {unsent.first_fd} от {since:%d.%m.%Y %H:%M} не подтверждён ОФД более "
            f"{OFD_TIMEOUT_DAYS} дней; передайте документы в ОФД"
        )
    return None
