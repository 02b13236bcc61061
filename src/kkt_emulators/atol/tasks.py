"""One ATOL JSON task executed against the emulated KKT: which device call each task is, and its result.

Printing tasks (``sell``, ``sellReturn``, ``buy``, ``buyReturn``, their corrections, ``openShift``, ``closeShift``)
go through the device's idempotent print with the key the job gives, so that a task run twice prints once. Status
tasks read the device. A refusal is a :class:`~kkt_emulators.atol.errors.TaskError`; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kkt_emulators.atol import receipts, results
from kkt_emulators.atol.errors import (
    COVER_OPENED,
    NO_CONNECTION,
    NOT_SUPPORTED,
    TaskError,
    bad_param,
    from_device,
    missing_param,
)
from kkt_emulators.atol.faults import AtolFaults
from kkt_emulators.device.errors import DeviceError
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import FiscalDocument

Task = Mapping[str, Any]

RECEIPTS = frozenset(receipts.OPERATIONS)
CORRECTIONS = frozenset(receipts.CORRECTIONS)
SHIFT_TASKS = frozenset({"openShift", "closeShift"})
#: Tasks that make a fiscal document: what a block interrupts, what the FN counter resolves.
PRINTING = RECEIPTS | CORRECTIONS | SHIFT_TASKS
#: Tasks that need the printer (paper, cover).
USES_PRINTER = PRINTING | {"reportX"}
#: The status tasks, each also served synchronously under ``/api/v2/operations/<name>``.
QUERIES = {
    "queryDeviceStatus": "getDeviceStatus",
    "queryShiftStatus": "getShiftStatus",
    "queryFnInfo": "getFnInfo",
    "queryFnStatus": "getFnStatus",
    "queryOfdExchangeStatus": "ofdExchangeStatus",
}
#: Status tasks served through the queue only.
QUEUED_QUERIES = frozenset({"getShiftTotals", "getRegistrationInfo"})
KNOWN = PRINTING | QUEUED_QUERIES | {"reportX", "continuePrint", "getFnDocument", *QUERIES.values()}
#: What the public JSON schema of the driver's tasks requires beyond ``type``: ``operator`` on every fiscal
#: document, ``taxationType`` on every receipt and correction (a real server refuses such a task: error 8).
REQUIRED: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(RECEIPTS | CORRECTIONS, ("taxationType", "operator")),
    **dict.fromkeys(SHIFT_TASKS, ("operator",)),
}


def task_type(task: object) -> str:
    """The task's ``type``, checked to be one this emulator executes (the task error otherwise)."""
    if not isinstance(task, Mapping):
        raise bad_param(f"задание должно быть объектом, получено {task!r}")
    kind = task.get("type")
    if kind is None:
        raise missing_param("type")
    if not isinstance(kind, str) or kind not in KNOWN:
        raise TaskError(NOT_SUPPORTED, f"задание {kind!r} не поддерживается эмулятором")
    return kind


class TaskRunner:
    """Executes tasks on ``kkt``, honouring the printer faults of ``faults``; thread-safe as the device is."""

    def __init__(self, kkt: EmulatedKKT, faults: AtolFaults) -> None:
        self.kkt = kkt
        self.faults = faults

    def documents_count(self) -> int:
        """The FN's last document number (``fnStatus.fiscalDocumentNumber``)."""
        return self.kkt.status().last_fd_number

    def run(self, task: Task, key: str, *, blocked: bool = False) -> dict[str, Any]:
        """The result of ``task``; ``key`` is the idempotency key of the document it prints, if it prints one."""
        kind = task_type(task)
        if self.faults.disconnected:
            raise TaskError(NO_CONNECTION, "ККТ не подключена")
        if kind in USES_PRINTER and self.faults.cover_opened:
            raise TaskError(COVER_OPENED)
        try:
            if kind in PRINTING:
                return results.printed(self.print(task, key))
            return self._read(kind, task, blocked=blocked)
        except DeviceError as exc:
            raise from_device(exc) from exc

    def print(self, task: Task, key: str) -> FiscalDocument:
        """Make the fiscal document of a printing task (once per ``key``); the device's refusal is raised as is."""
        kind = task_type(task)
        _check_required(kind, task)
        if kind in RECEIPTS:
            return self.kkt.print_receipt(receipts.receipt_task(task), idempotency_key=key)
        if kind in CORRECTIONS:
            return self.kkt.print_correction(receipts.correction_task(task), idempotency_key=key)
        name, inn = receipts.operator(task)
        if kind == "openShift":
            return self.kkt.open_shift(idempotency_key=key, cashier_name=name, cashier_inn=inn)
        return self.kkt.close_shift(idempotency_key=key, cashier_name=name, cashier_inn=inn)

    def query(self, kind: str, *, blocked: bool = False) -> dict[str, Any]:
        """The result of a status task (``getDeviceStatus``, ...) without the queue."""
        try:
            return self._read(kind, {"type": kind}, blocked=blocked)
        except DeviceError as exc:
            raise from_device(exc) from exc

    def _read(self, kind: str, task: Task, *, blocked: bool) -> dict[str, Any]:
        readers: dict[str, Callable[[], dict[str, Any]]] = {
            "reportX": self._report_x,
            "continuePrint": dict,
            "getShiftStatus": lambda: results.shift_status(self.kkt.status()),
            "getDeviceStatus": lambda: self._device_status(blocked),
            "getFnInfo": lambda: results.fn_info(self.kkt.fn_status()),
            "getFnStatus": self._fn_status,
            "ofdExchangeStatus": lambda: results.ofd_exchange_status(self.kkt.fn_status()),
            "getFnDocument": lambda: self._fn_document(task),
            "getShiftTotals": self._shift_totals,
            "getRegistrationInfo": lambda: results.registration_info(self.kkt.registration, receipts.TAXATION),
        }
        return readers[kind]()

    def _report_x(self) -> dict[str, Any]:
        self.kkt.x_report()
        return {}

    def _shift_totals(self) -> dict[str, Any]:
        number = self.kkt.status().shift_number
        return results.shift_totals(self.kkt.shift_totals(number), number)

    def _device_status(self, blocked: bool) -> dict[str, Any]:
        return results.device_status(
            self.kkt.status(),
            self.kkt.fn_status(),
            now=self.kkt.local_now(),
            cover_opened=self.faults.cover_opened,
            blocked=blocked,
        )

    def _fn_status(self) -> dict[str, Any]:
        fn = self.kkt.fn_status()
        last = self.kkt.find_by_number(fn.documents_count)
        receipt_number = 0
        status = self.kkt.status()
        if status.shift_open:
            receipt_number = status.receipts_in_shift
        elif last is not None and last.receipt_number is not None:
            receipt_number = last.receipt_number
        return results.fn_status(fn, receipt_number=receipt_number)

    def _fn_document(self, task: Task) -> dict[str, Any]:
        number = task.get("fiscalDocumentNumber")
        if number is None:
            raise missing_param("fiscalDocumentNumber")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise bad_param(f"fiscalDocumentNumber: нужен номер документа (целое > 0), получено {number!r}")
        doc = self.kkt.find_by_number(number)
        if doc is None:
            raise bad_param(f"fiscalDocumentNumber: документа № {number} нет в архиве ФН")
        return results.document_tlv(doc)


def _check_required(kind: str, task: Task) -> None:
    """Refuse a printing task without what the schema requires of it, and an ``operator`` that is not an object."""
    for name in REQUIRED.get(kind, ()):
        if task.get(name) is None:
            raise missing_param(name)
    operator = task.get("operator")
    if operator is not None and not isinstance(operator, Mapping):
        raise bad_param(f"operator: нужен объект {{'name', 'vatin'}}, получено {operator!r}")
