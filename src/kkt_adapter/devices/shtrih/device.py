"""The Shtrih-M KKT as the driver talks to it: commands with their passwords over a channel, the busy answer waited
out, the state read (10h, FF01h, FF40h), the recoveries a print starts with whenever the KKT's state is not known
good (an open receipt cancelled, a stopped print continued), and the :meth:`~ShtrihDevice.generation` that tells the
driver when what it knew may no longer hold (a command failed on the line, the link reconnected)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from kkt_adapter.devices.shtrih import commands
from kkt_adapter.devices.shtrih.channel import AnswerLost, Channel, NotDelivered, V1Channel, V2Channel
from kkt_adapter.devices.shtrih.commands import CommandFailed
from kkt_adapter.devices.shtrih.errors import BUSY, refusal, unavailable
from kkt_adapter.devices.shtrih.link import Link, LinkDown

log = logging.getLogger(__name__)

#: How many times a command refused "busy, still printing" (50h) is sent again, and the pause between.
BUSY_RETRIES = 20
BUSY_PAUSE_S = 0.05


class ShtrihDevice:
    """Commands to one KKT. ``password`` is the operator's (cashier commands), ``admin_password`` the system
    administrator's (FN commands, reports, the close); ``sleep`` paces waits (tests inject it)."""

    def __init__(
        self,
        channel: Channel,
        *,
        password: int = 1,
        admin_password: int = 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.channel = channel
        self.password = password
        self.admin_password = admin_password
        self.sleep = sleep
        self.reg_number = ""
        self.troubles = 0

    def generation(self) -> tuple[int, int]:
        """Changes whenever a command fails on the line (not delivered, its answer lost, the link down) and
        whenever the link connects again: what the driver knew of the KKT before may no longer hold."""
        return self.troubles, self.channel.link.opens

    def _exchange(self, message: bytes) -> bytes:
        try:
            return self.channel.exchange(message)
        except (NotDelivered, AnswerLost, LinkDown):
            self.troubles += 1
            raise

    def call(self, command: int, data: bytes = b"", *, admin: bool = False) -> bytes:
        """Run ``command`` and return its answer's data. :class:`CommandFailed` for the KKT's error code;
        :class:`NotDelivered` or :class:`AnswerLost` from the line."""
        password = self.admin_password if admin else self.password
        return self.send(commands.request(command, password, data), command)

    def send(self, message: bytes, command: int) -> bytes:
        """Run a request built by :mod:`.commands` (its password inside) and return its answer's data; a busy KKT
        (50h) is asked again after a pause, a few times."""
        for _ in range(BUSY_RETRIES):
            try:
                return commands.payload(command, self._exchange(message))
            except CommandFailed as exc:
                if exc.code != BUSY:
                    raise
            self.sleep(BUSY_PAUSE_S)
        return commands.payload(command, self._exchange(message))

    def query(self, command: int, data: bytes = b"", *, admin: bool = True) -> bytes:
        """A command that prints nothing: any failure to reach the KKT is :class:`DeviceUnavailable`, an error code
        the adapter's refusal for it."""
        try:
            return self.call(command, data, admin=admin)
        except CommandFailed as exc:
            raise refusal(exc.code, command) from exc
        except (NotDelivered, AnswerLost, LinkDown) as exc:
            raise unavailable(str(exc)) from exc

    # -- state ---------------------------------------------------------------------------------------------------

    def status(self) -> commands.ShortStatus:
        return commands.short_status(self.query(0x10, admin=False))

    def fn(self) -> commands.FnState:
        return commands.fn_state(self.query(0xFF01))

    def shift(self) -> commands.ShiftState:
        return commands.shift_state(self.query(0xFF40))

    def exchange(self) -> commands.Exchange:
        return commands.exchange(self.query(0xFF39))

    def find(self, fd_number: int) -> commands.Document | None:
        """The document numbered ``fd_number`` (FF0Ah), or ``None`` if the FN has no such document (08h)."""
        try:
            return commands.document(self.call(0xFF0A, fd_number.to_bytes(4, "little"), admin=True))
        except CommandFailed as exc:
            if exc.code == 0x08:
                return None
            raise refusal(exc.code, 0xFF0A) from exc
        except (NotDelivered, AnswerLost, LinkDown) as exc:
            raise unavailable(str(exc)) from exc

    def cash_register(self, number: int) -> int:
        """Cash register ``number`` (1Ah: a one-byte number up to 255, else two bytes), in kopecks."""
        data = number.to_bytes(1 if number <= 0xFF else 2, "little")
        return commands.register(self.query(0x1A, data, admin=False), size=6)

    def operating_register(self, number: int) -> int:
        """Operating register ``number`` (1Bh, 0..255): a count."""
        return commands.register(self.query(0x1B, bytes([number]), admin=False), size=2)

    def registration_number(self) -> str:
        """The KKT's registration number (1037), from the registration report (FD 1), read once."""
        if not self.reg_number:
            report = self.find(1)
            self.reg_number = report.reg_number if report is not None else ""
        return self.reg_number

    def prepare(self) -> commands.ShortStatus:
        """Before a print: a receipt left open (a crash between 8Dh and FF45h) is cancelled, a print stopped by
        the paper (submode 3) is continued; returns the status then."""
        status = self.status()
        if status.submode == 3:
            log.info("the Shtrih-M KKT waits to continue a print: sending B0h")
            self.query(0xB0, admin=False)
            status = self.status()
        if status.mode == 8:
            log.warning("a receipt was left open on the Shtrih-M KKT: cancelling it (88h) before anything else")
            self.query(0x88, admin=True)
            status = self.status()
        return status

    def cancel_quietly(self) -> None:
        """Cancel an open receipt after a refusal; a failure here leaves it for :meth:`prepare` to find."""
        try:
            if self.status().mode == 8:
                self.call(0x88, admin=True)
        except Exception as exc:  # the refusal being reported matters more than this cleanup
            log.warning("could not cancel the open receipt: %s", exc)

    def wait_continue(self, *, deadline_s: float, now: Callable[[], float]) -> bool:
        """After paper ran out mid-print: poll until the paper is back (submode 3), then B0h; ``False`` if the
        deadline passes first (the next :meth:`prepare` continues it)."""
        end = now() + deadline_s
        while True:
            try:
                status = self.status()
                if status.submode == 3:
                    self.query(0xB0, admin=False)
                    return True
                if status.submode == 0:
                    return True
            except Exception as exc:
                log.debug("waiting for paper: %s", exc)
            if now() >= end:
                return False
            self.sleep(0.05)

    def clock(self) -> datetime:
        """The KKT's date-time (from the FN's status)."""
        return self.fn().when

    def close(self) -> None:
        self.channel.close()


def open_channel(link: Link, protocol: str, *, byte_timeout: float, answer_timeout: float) -> Channel:
    """The channel for ``protocol`` (v1, v2, or auto: v2 if the KKT answers a v2 sync packet, else v1)."""
    v2 = V2Channel(link, byte_timeout=byte_timeout, answer_timeout=answer_timeout)
    if protocol == "v2":
        return v2
    v1 = V1Channel(link, byte_timeout=byte_timeout, answer_timeout=answer_timeout)
    if protocol == "v1":
        return v1
    try:
        v2.sync()
        return v2
    except LinkDown:
        log.info("the KKT does not answer v2 sync: using v1")
        link.discard_input()
        return v1
