"""ATOL's error codes (the driver's numbering, as Web Requests reports them) and how the emulated KKT's refusals map
onto them.

A task that fails is answered ``{"status": "error", "error": {"code", "description"}}``; :class:`TaskError` carries
that pair from the task's execution to the job. Descriptions are the driver's own texts (Russian), with the device's
reason added where it says more.
"""

from __future__ import annotations

from kkt_emulators.device.errors import (
    DeviceError,
    DeviceOffline,
    FNArchiveFull,
    FNExpired,
    FNOfdTimeout,
    InvalidTask,
    PaperOut,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)

OK = 0
NO_CONNECTION = 2
INTERNAL = 6
NO_REQUIRED_PARAM = 8
NOT_SUPPORTED = 11
INVALID_PARAM = 13
NO_PAPER = 44
COVER_OPENED = 45
NOT_FULLY_PAID = 66
SHIFT_EXPIRED = 68
DENIED_IN_CLOSED_SHIFT = 73
DENIED_IN_OPENED_SHIFT = 83
FN_EXPIRED = 120
FN_ARCHIVE_FULL = 121
FN_OFD_TIMEOUT = 140
INTERRUPTED = 502
CANCELED = 503

#: The driver's text for each code this emulator answers with.
DESCRIPTIONS: dict[int, str] = {
    OK: "Ошибок нет",
    NO_CONNECTION: "Нет связи",
    INTERNAL: "Внутренняя ошибка библиотеки",
    NO_REQUIRED_PARAM: "Не найден обязательный параметр",
    NOT_SUPPORTED: "Не поддерживается в данной версии",
    INVALID_PARAM: "Некорректное значение параметра",
    NO_PAPER: "Нет бумаги",
    COVER_OPENED: "Открыта крышка",
    NOT_FULLY_PAID: "Чек оплачен не полностью",
    SHIFT_EXPIRED: "Смена превысила 24 часа",
    DENIED_IN_CLOSED_SHIFT: "Смена закрыта - операция невозможна",
    DENIED_IN_OPENED_SHIFT: "Смена открыта - операция невозможна",
    FN_EXPIRED: "Исчерпан временной ресурс ФН",
    FN_ARCHIVE_FULL: "Переполнение ФН",
    FN_OFD_TIMEOUT: "Ресурс хранения документов для ОФД исчерпан",
    INTERRUPTED: "Задание прервано из-за предыдущих ошибок",
    CANCELED: "Задание отменено",
}


class TaskError(Exception):
    """A task refused or failed: the ATOL error ``code`` and its ``description``."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        base = DESCRIPTIONS.get(code, "Ошибка")
        self.code = code
        self.description = base if not detail or detail == base else f"{base}: {detail}"
        super().__init__(self.description)

    def as_dict(self) -> dict[str, object]:
        """The ``error`` object of a result: ``{"code", "description"}``."""
        return {"code": self.code, "description": self.description}


def bad_param(detail: str) -> TaskError:
    """A task field with a value the driver refuses (code 13), naming the field and what is allowed."""
    return TaskError(INVALID_PARAM, detail)


def missing_param(name: str) -> TaskError:
    """A required task field that is absent (code 8)."""
    return TaskError(NO_REQUIRED_PARAM, f"поле {name!r} обязательно")


def from_device(error: DeviceError) -> TaskError:
    """The ATOL error a refusal of the emulated KKT is reported as (nothing was printed)."""
    code = INVALID_PARAM
    if isinstance(error, PaperOut):
        code = NO_PAPER
    elif isinstance(error, DeviceOffline):
        code = NO_CONNECTION
    elif isinstance(error, ShiftExpired):
        code = SHIFT_EXPIRED
    elif isinstance(error, ShiftAlreadyOpen):
        code = DENIED_IN_OPENED_SHIFT
    elif isinstance(error, ShiftNotOpen):
        code = DENIED_IN_CLOSED_SHIFT
    elif isinstance(error, FNExpired):
        code = FN_EXPIRED
    elif isinstance(error, FNArchiveFull):
        code = FN_ARCHIVE_FULL
    elif isinstance(error, FNOfdTimeout):
        code = FN_OFD_TIMEOUT
    elif isinstance(error, InvalidTask) and ("меньше итога" in error.reason):
        code = NOT_FULLY_PAID
    return TaskError(code, error.reason)
