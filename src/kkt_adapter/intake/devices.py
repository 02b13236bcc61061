"""Several KKTs behind one adapter: which device prints a request, and failover that never prints a sale twice.

Each device is a :class:`DeviceUnit` (:func:`open_unit`): its lane (:class:`~kkt_adapter.devices.lane.DeviceLane`:
driver, thread, batches), its :class:`~kkt_adapter.intake.fiscalizer.Fiscalizer`, its recovery from the journal and
its shift service; they share the one buffer. :class:`Devices` routes:

- a sale goes to the primary (the first configured device); a refund that names its sale, or a correction that
  names the wrong receipt's fiscal sign (tag 1192), goes to the device that printed that document first
  (``KKT_REFUND_DEVICE_POLICY=failover``), or only there (``original_only``);
- a request that names a device (the body's ``device``) is printed there and nowhere else;
- a sale is moved to the next device only after a *definite* refusal before printing (the device is offline, out of
  paper, its cover open, its FN expired, its shift expired under ``refuse``: the device's own answer), decided by the
  error's type (:func:`~kkt_adapter.domain.errors.may_move`, which the buffer's binding shares). The refused
  row is ``print_failed`` when the next device takes it, so the buffer's accept transaction
  binds the key to that device; the move is audited (event ``failover``) and counted;
- a key whose failure the device did not report itself (a reconciliation or an error found nothing in its journal:
  another process may still be printing it there) stays on its device (the buffer answers ``BoundElsewhere``);
- an unknown outcome (:class:`~kkt_adapter.domain.errors.OutcomeUnknown`) is never moved: the key stays bound to its
  device, and the client's resend is answered from that device once its journal tells.

A device that refused is skipped by sales naming no device for ``KKT_FAILOVER_RECHECK_S``, then tried first again,
so sales return to the primary once it prints.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, time, tzinfo
from typing import Literal

from kkt_adapter.buffer.device_fns import DeviceFns
from kkt_adapter.buffer.device_rows import DeviceRows
from kkt_adapter.buffer.store import Buffer
from kkt_adapter.devices.lane import DeviceLane, ShiftPolicy
from kkt_adapter.devices.monitor import DeviceSnapshot
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import DeviceError, DeviceRefused, NoDeviceCouldPrint, OutcomeUnknown, may_move
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.intake.device_start import DeviceStart, StartGate
from kkt_adapter.intake.fiscalizer import Fiscalizer
from kkt_adapter.intake.recovery import Recovery
from kkt_adapter.intake.shifts import ShiftService
from kkt_adapter.intake.unstored import UnstoredResults
from kkt_adapter.status.metrics import Metrics
from kkt_clock import Clock

log = logging.getLogger(__name__)

RefundPolicy = Literal["failover", "original_only"]


@dataclass(frozen=True)
class Refusal:
    """A device's last definite refusal, for the operator."""

    code: str
    reason: str
    at: float


@dataclass
class DeviceUnit:
    """One KKT: its name, lane, fiscalizer, recovery and shifts, and what routing has seen of it."""

    name: str
    primary: bool
    kind: str
    lane: DeviceLane
    fiscalizer: Fiscalizer
    recovery: Recovery
    shifts: ShiftService
    #: Settles the device before it prints: at the adapter's start, or the first time it answers after.
    start: DeviceStart
    last_refusal: Refusal | None = None
    #: Sales naming no device skip this one until then (it refused one; see ``KKT_FAILOVER_RECHECK_S``).
    skipped_until: float | None = None

    @property
    def driver(self) -> FiscalDriver:
        return self.lane.driver

    async def device_status(self) -> DeviceSnapshot:
        """The device's state, asked afresh when it is idle; while its start is not settled, why it does not print
        (even if it answers)."""
        snapshot = await self.lane.status()
        if self.start.gate.reason is not None and snapshot.last_error is None:
            self.start.answered()
        return self._held(snapshot)

    def last_known(self) -> DeviceSnapshot:
        """The device's state as last seen (by a print, a status read or the periodic check), without asking it."""
        return self._held(self.lane.monitor.snapshot())

    def _held(self, snapshot: DeviceSnapshot) -> DeviceSnapshot:
        held = self.start.gate.reason
        return snapshot if held is None else dataclasses.replace(snapshot, last_error=held)

    def close(self) -> None:
        """Stop the lane's thread (after the queued work); the driver is closed by its owner."""
        self.lane.close()


def open_unit(
    name: str,
    driver: FiscalDriver,
    buffer: Buffer,
    clock: Clock,
    *,
    primary: bool = True,
    kind: str = "emulated",
    capacity: int,
    retry_after_s: int,
    metrics: Metrics,
    shift_policy: ShiftPolicy = "auto",
    close_at: time | None = None,
    tz: tzinfo = UTC,
    on_printed: Callable[[], None] = lambda: None,
) -> DeviceUnit:
    """One device's parts, wired: its lane over ``driver``, and the fiscalizer, recovery and shifts that use it. The
    shift reports of a device other than the primary carry its name before their keys (they never meet another's,
    in the buffer or on a Web Requests server that serves both devices). ``on_printed`` wakes the sync worker."""
    lane = DeviceLane(driver, clock=clock, name=name, shift_policy=shift_policy)
    unstored = UnstoredResults()
    gate = StartGate()
    fiscalizer = Fiscalizer(
        buffer,
        lane,
        capacity=capacity,
        retry_after_s=retry_after_s,
        metrics=metrics,
        unstored=unstored,
        on_printed=on_printed,
        gate=gate,
    )
    recovery = Recovery(buffer, lane, unstored=unstored, metrics=metrics, printing=fiscalizer.printing)
    shifts = ShiftService(
        lane,
        buffer,
        clock,
        close_at=close_at,
        tz=tz,
        key_prefix="" if primary else f"{name}:",
        on_printed=on_printed,
        unstored=unstored,
        gate=gate,
    )
    start = DeviceStart(
        lane, recovery, DeviceFns(buffer.db, clock=clock), clock, kind=kind, gate=gate, printing=fiscalizer.printing
    )
    return DeviceUnit(name, primary, kind, lane, fiscalizer, recovery, shifts, start)


@dataclass
class Devices:
    """The configured devices in order (the first is the primary), and the routing of every print."""

    units: Sequence[DeviceUnit]
    buffer: Buffer
    metrics: Metrics = field(default_factory=Metrics)
    recheck_s: float = 30.0
    refund_policy: RefundPolicy = "failover"

    def __post_init__(self) -> None:
        if not self.units:
            raise ValueError("at least one device")
        self._by_name = {unit.name: unit for unit in self.units}
        #: Whether outputs name the device they are about, and list the devices: only when there is a choice of
        #: devices (one device's outputs are as they always were). The one place this is decided; health, the
        #: heartbeat, background tasks and trackers take it from here.
        self.labelled = len(self.units) > 1
        self.rows = DeviceRows(self.buffer.db, clock=self.buffer.clock)

    @property
    def primary(self) -> DeviceUnit:
        return self.units[0]

    @property
    def names(self) -> list[str]:
        return [unit.name for unit in self.units]

    def label(self, unit: DeviceUnit) -> str | None:
        """How outputs name ``unit``: by its name when there is a choice of devices, else not at all (an error's
        ``device``, a background task's or a tracker's label: one device's outputs are as they always were)."""
        return unit.name if self.labelled else None

    def get(self, name: str | None) -> DeviceUnit:
        """The device named ``name`` (the primary for ``None``); :class:`KeyError` for an unknown name."""
        return self.primary if name is None else self._by_name[name]

    def knows(self, name: str) -> bool:
        return name in self._by_name

    async def accept(self, request: Receipt | Correction, *, key: str, device: str | None = None) -> str:
        """Print ``request`` once for ``key`` on the device routing chooses, moving it only after definite refusals;
        returns the answer's body (a replay returns the first answer, from the device that printed it)."""
        candidates = await self._candidates(request, device)
        refusals: dict[str, DeviceRefused] = {}
        previous: DeviceUnit | None = None
        while (unit := next((one for one in candidates if one.name not in refusals), None)) is not None:
            if previous is not None:
                await self._record_failover(key, previous, unit, refusals[previous.name])
            answer = await self._on(unit, request, key)
            if isinstance(answer, str):
                unit.skipped_until = None
                return answer
            refusing, exc = answer.unit, answer.error
            exc.device = exc.device or self.label(refusing)
            if device is not None or len(candidates) == 1 or not may_move(exc):
                raise exc
            self._refused(refusing, exc)
            refusals[refusing.name] = exc
            previous = refusing
        raise NoDeviceCouldPrint(refusals)

    async def _on(self, unit: DeviceUnit, request: Receipt | Correction, key: str) -> str | _Refused:
        """``unit``'s fiscalizer accepts it, or the one the key is bound to (a print of it being decided there): the
        answer's body, or the device's error with the device that answered it."""
        for _ in range(len(self.units) + 1):
            try:
                answer = await unit.fiscalizer.accept(request, key=key)
            except DeviceError as exc:
                return _Refused(unit, exc)
            if isinstance(answer, str):
                return answer
            bound = self._by_name.get(answer.device)  # a Redirect: the key is bound to that device
            if bound is None:
                raise OutcomeUnknown(
                    f"this Idempotency-Key is bound to device {answer.device!r}, which is not configured: "
                    "configure it again to settle the receipt from its journal"
                )
            unit = bound
        raise OutcomeUnknown("this Idempotency-Key moved between devices while it was asked; retry with the same key")

    async def _candidates(self, request: Receipt | Correction, device: str | None) -> list[DeviceUnit]:
        if device is not None:
            return [self.get(device)]
        if len(self.units) == 1:
            return list(self.units)  # nothing to choose: no need to look up a refund's sale
        now = self.buffer.clock.time()
        usable = [unit for unit in self.units if unit.skipped_until is None or unit.skipped_until <= now]
        skipped = [unit for unit in self.units if unit not in usable]
        order = usable + skipped
        original = await self._original_device(request)
        if original is None:
            return order
        if self.refund_policy == "original_only":
            return [original]
        return [original, *(unit for unit in order if unit is not original)]

    async def _original_device(self, request: Receipt | Correction) -> DeviceUnit | None:
        """The device that printed the sale a refund names, or the receipt a correction names by its fiscal sign
        (tag 1192), when it is configured."""
        if isinstance(request, Correction):
            if request.corrected_fiscal_sign is None:
                return None
            name = await asyncio.to_thread(self.rows.device_of_fiscal_sign, request.corrected_fiscal_sign)
        elif request.original_receipt_id is None and request.original_fd_number is None:
            return None
        else:
            name = await asyncio.to_thread(self.rows.device_of_sale, request)
        if name == "":  # delivered before documents named their device: the primary's
            return self.primary
        return self._by_name.get(name) if name is not None else None

    def _refused(self, unit: DeviceUnit, refused: DeviceRefused) -> None:
        now = self.buffer.clock.time()
        unit.last_refusal = Refusal(refused.code, refused.reason, now)
        if self.recheck_s > 0:
            unit.skipped_until = now + self.recheck_s
        log.warning(
            "device refused a sale before printing: trying the next device",
            extra={"device": unit.name, "code": refused.code, "reason": refused.reason},
        )

    async def _record_failover(self, key: str, old: DeviceUnit, new: DeviceUnit, refused: DeviceRefused) -> None:
        self.metrics.failovers.labels(old.name, new.name).inc()
        detail = f"{old.name} -> {new.name}: {refused.code}: {refused.reason}"
        try:
            row = await asyncio.to_thread(self.buffer.get_by_key, key)
            if row is not None:
                await asyncio.to_thread(self.rows.record_failover, row.receipt_id, detail)
        except Exception:  # the audit line is lost, not the sale: the next device still prints it
            log.exception("recording a failover failed", extra={"key": key, "detail": detail})


@dataclass(frozen=True)
class _Refused:
    """A device's error, with the device that answered it (the request may have been handed to the one its key is
    bound to)."""

    unit: DeviceUnit
    error: DeviceError
