"""The KKT's side of the line: reads requests in either framing from one byte stream, runs them on the machine,
answers, and plays the line's fault programs.

The framing is told by each request's first byte (05h/02h v1, 8Fh v2), as the KKT does. Two things outlive a
connection, because they belong to the device: v1's answer not yet acknowledged (an ENQ after a reconnect still gets
it) and v2's last executed packet number with its answer (a repeated number gets that answer again, never a second
execution).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from kkt_emulators.shtrih import frames
from kkt_emulators.shtrih.frames import ACK, ENQ, NAK, STX, STX2, BadFrame
from kkt_emulators.shtrih.machine import ShtrihMachine

log = logging.getLogger(__name__)

#: How long the KKT waits for the next byte of a frame, or for the host's ACK to its answer.
BYTE_TIMEOUT_S = 0.5


class Closed(Exception):
    """The stream ended."""


class Stream(Protocol):
    """A byte stream to one host: a TCP connection or a pseudo-terminal."""

    def read_byte(self, timeout: float | None) -> int | None:
        """The next byte, ``None`` after ``timeout`` seconds; :class:`Closed` at the end."""
        ...

    def write(self, data: bytes) -> None:
        """Send ``data``."""
        ...

    def close(self) -> None:
        """End the stream."""
        ...


@dataclass
class LineState:
    """What the line remembers across connections: v1's unacknowledged answer, v2's last packet and answer."""

    pending_v1: bytes | None = None
    last_number: int = 0
    last_answer: bytes = b""


class Session:
    """Serves one stream until it closes. ``noise`` sends the stray FFh before each ACK, as some devices on TCP."""

    def __init__(
        self, stream: Stream, machine: ShtrihMachine, line: LineState, lock: threading.Lock, *, noise: bool
    ) -> None:
        self.stream = stream
        self.machine = machine
        self.faults = machine.faults
        self.line = line
        self.lock = lock
        self.noise = noise

    def serve(self, stop: threading.Event) -> None:
        """Answer requests until the stream closes or ``stop`` is set."""
        try:
            while not stop.is_set():
                first = self.stream.read_byte(0.1)
                if first is None:
                    continue
                with self.lock:
                    if first == ENQ:
                        self._enquiry()
                    elif first == STX:
                        self._v1_request()
                    elif first == STX2:
                        self._v2_request()
        except Closed:
            pass
        except OSError as exc:
            log.debug("shtrih session ended: %s", exc)
        finally:
            self.stream.close()

    # -- v1 ------------------------------------------------------------------------------------------------------

    def _ack(self) -> None:
        self.stream.write(b"\xff\x06" if self.noise and self.faults.tcp_noise else bytes([ACK]))

    def _enquiry(self) -> None:
        if self.line.pending_v1 is None:
            self.stream.write(bytes([NAK]))
            return
        self._ack()
        self._send_v1(self.line.pending_v1)

    def _send_v1(self, answer: bytes) -> None:
        self.stream.write(frames.v1_frame(answer))
        if self.stream.read_byte(BYTE_TIMEOUT_S) == ACK:
            self.line.pending_v1 = None

    def _v1_request(self) -> None:
        length = self._byte()
        message = bytes(self._byte() for _ in range(length))
        checksum = self._byte()
        try:
            frames.v1_check(length, message, checksum)
        except BadFrame:
            self.stream.write(bytes([NAK]))
            return
        if self.faults.take("silence"):
            return
        if self.faults.take("nak"):
            self.stream.write(bytes([NAK]))
            return
        self._ack()
        answer = self.machine.execute(message)
        if self.faults.take("duplicate"):
            answer = self.machine.execute(message)  # v1 has no way to tell a repeated frame: it runs again
        self.line.pending_v1 = answer
        if self.faults.take("lose_answer"):
            return
        if self.faults.take("disconnect"):
            raise Closed
        self._send_v1(answer)

    def _byte(self) -> int:
        byte = self.stream.read_byte(BYTE_TIMEOUT_S)
        if byte is None:
            raise Closed  # a frame cut short: the line is dropped, as a KKT resets its receiver
        return byte

    # -- v2 ------------------------------------------------------------------------------------------------------

    def _v2_request(self) -> None:
        body = bytearray()
        needed = 2
        while len(body) < needed:
            byte = self._byte()
            if byte == frames.ESC:
                byte = frames.unescape_byte(self._byte())
            body.append(byte)
            if len(body) == 2:
                needed = int.from_bytes(body, "little") + 6
        try:
            number, message = frames.v2_check(bytes(body))
        except BadFrame:
            return  # v2 has no NAK: the host times out and repeats the same number
        if self.faults.take("silence"):
            return
        if not message:
            self.stream.write(frames.v2_frame(self.line.last_number, b""))
            return
        self._v2_execute(number, message)
        if self.faults.take("duplicate"):
            self._v2_answer()
            self._v2_execute(number, message)  # the same number again: answered from memory, not run
        if self.faults.take("lose_answer"):
            return
        if self.faults.take("disconnect"):
            raise Closed
        self._v2_answer()

    def _v2_answer(self) -> None:
        self.stream.write(frames.v2_frame(self.line.last_number, self.line.last_answer))

    def _v2_execute(self, number: int, message: bytes) -> None:
        if number == (self.line.last_number + 1) & 0xFFFF:
            self.line.last_answer = self.machine.execute(message)
            self.line.last_number = number
