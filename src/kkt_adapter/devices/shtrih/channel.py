"""One request, one answer, over a :class:`~.link.Link`, in either framing: what can and cannot be retried.

:meth:`Channel.exchange` returns the answer's message or raises one of two errors, and the difference is the whole
point of this module:

- :class:`NotDelivered`: the KKT never took the request (no ACK in v1, ENQ answered NAK; the link down before the
  request was written): nothing was executed, sending again is safe.
- :class:`AnswerLost`: the KKT may have executed it and its answer is gone: only the fiscal drive can tell now.

v1 recovers an unread answer with ENQ (ACK: "an answer waits", then it is sent again). v2 recovers it by sending
the same packet number again: the KKT executes a packet only when its number is the last executed + 1 and otherwise
answers again with its last answer, so a repeat never executes twice.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

from kkt_adapter.devices.shtrih import frames
from kkt_adapter.devices.shtrih.frames import ACK, ENQ, NAK, STX, STX2, TCP_NOISE, FrameError
from kkt_adapter.devices.shtrih.link import Link, LinkDown

#: How many times one frame is sent before the KKT counts as unreachable.
ATTEMPTS = 3


class NotDelivered(Exception):
    """The KKT did not take the request: nothing was executed."""


class AnswerLost(Exception):
    """The request reached the KKT but its answer was not read: it may have been executed."""


class Channel(Protocol):
    """One framing over one link."""

    name: str
    link: Link

    def exchange(self, message: bytes) -> bytes:
        """Send ``message`` and return the KKT's answer message."""
        ...

    def close(self) -> None:
        """Release the link."""
        ...


class V1Channel:
    """The v1 framing with its ENQ/ACK/NAK handshake. ``byte_timeout`` bounds the handshake's single bytes,
    ``answer_timeout`` the wait for an answer while the KKT executes (a print takes seconds)."""

    name = "v1"

    def __init__(self, link: Link, *, byte_timeout: float = 0.5, answer_timeout: float = 30.0) -> None:
        self.link = link
        self.byte_timeout = byte_timeout
        self.answer_timeout = answer_timeout

    def exchange(self, message: bytes) -> bytes:
        frame = frames.encode_v1(message)
        try:
            self._settle()
        except LinkDown as exc:
            raise NotDelivered(str(exc)) from exc
        for _ in range(ATTEMPTS):
            try:
                self.link.write(frame)
                reply = self._control_byte(self.byte_timeout)
            except LinkDown as exc:
                # Whether the frame got through before the break is unknown: ask after reconnecting.
                return self._after_break(exc)
            if reply == ACK:
                return self._read_answer()
            if reply == NAK:
                continue  # an interface error: the KKT did not take the frame
            if self._enquire() == ACK:  # no ACK, yet an answer is being prepared: it did take it
                return self._read_answer(acknowledged=True)
        raise NotDelivered(f"the KKT did not take the request after {ATTEMPTS} attempts")

    def _after_break(self, exc: LinkDown) -> bytes:
        try:
            self.link.reopen()
            if self._enquire() == ACK:
                return self._read_answer(acknowledged=True)
        except LinkDown as again:
            raise AnswerLost(f"the link broke while sending: {again}") from exc
        raise AnswerLost(f"the link broke while sending and no answer waits: {exc}") from exc

    def _settle(self) -> None:
        """Before a request: ENQ until the KKT is idle; an answer still waiting (not ours) is read and dropped."""
        for _ in range(ATTEMPTS):
            state = self._enquire()
            if state == NAK:
                return
            if state == ACK:
                try:
                    self._read_frame(self.answer_timeout)
                    self.link.write(bytes([ACK]))
                except (AnswerLost, FrameError):
                    continue
                continue
        state = self._enquire()
        if state != NAK:
            raise LinkDown("the KKT does not answer ENQ" if state is None else "the KKT stays busy")

    def _enquire(self) -> int | None:
        self.link.discard_input()
        self.link.write(bytes([ENQ]))
        return self._control_byte(self.byte_timeout)

    def _control_byte(self, timeout: float) -> int | None:
        """ACK, NAK, or ``None``; the stray FFh some devices add on TCP is skipped."""
        while True:
            byte = self.link.read_byte(timeout)
            if byte is None or byte in (ACK, NAK):
                return byte
            if byte != TCP_NOISE:
                return None

    def _read_answer(self, *, acknowledged: bool = False) -> bytes:
        """The answer after the KKT's ACK; a bad or missing answer is asked for again with ENQ."""
        del acknowledged  # both paths read the answer the same way
        try:
            for attempt in range(ATTEMPTS):
                try:
                    message = self._read_frame(self.answer_timeout if attempt == 0 else self.byte_timeout * 4)
                except FrameError:
                    self.link.write(bytes([NAK]))
                    message = None
                if message is not None:
                    self.link.write(bytes([ACK]))
                    return message
                if self._enquire() != ACK:
                    break
        except LinkDown as exc:
            raise AnswerLost(f"the link broke before the answer: {exc}") from exc
        raise AnswerLost("the KKT took the request and its answer was not received")

    def _read_frame(self, timeout: float) -> bytes | None:
        """One v1 frame's message, or ``None`` if it does not start in ``timeout``; :class:`FrameError` if bad."""
        while True:
            first = self.link.read_byte(timeout)
            if first is None:
                return None
            if first == STX:
                break
        length = self.link.read_byte(self.byte_timeout)
        if length is None:
            raise FrameError("v1 frame cut after STX")
        body = bytearray([length])
        while len(body) < length + 2:  # LEN, the message, LRC
            chunk = self.link.read_upto(length + 2 - len(body), self.byte_timeout)
            if not chunk:
                raise FrameError("v1 frame cut short")
            body += chunk
        return frames.decode_v1(bytes([STX]) + bytes(body))

    def close(self) -> None:
        self.link.close()


class V2Channel:
    """The v2 framing: numbered packets; a lost answer is read again by repeating the packet's number."""

    name = "v2"

    def __init__(self, link: Link, *, byte_timeout: float = 0.5, answer_timeout: float = 30.0) -> None:
        self.link = link
        self.byte_timeout = byte_timeout
        self.answer_timeout = answer_timeout
        self.last_number: int | None = None

    def sync(self) -> int:
        """Learn the number of the KKT's last executed packet (an empty packet answers with it)."""
        for _ in range(ATTEMPTS):
            self.link.discard_input()
            self.link.write(frames.encode_v2(0, b""))
            packet = self._read_packet(self.byte_timeout * 2)
            if packet is not None and not packet.message:
                self.last_number = packet.number
                return packet.number
        raise LinkDown("the KKT does not answer a v2 sync packet")

    def exchange(self, message: bytes) -> bytes:
        try:
            if self.last_number is None:
                self.sync()
        except LinkDown as exc:
            raise NotDelivered(str(exc)) from exc
        assert self.last_number is not None
        number = frames.next_number(self.last_number)
        frame = frames.encode_v2(number, message)
        written = False
        for attempt in range(ATTEMPTS):
            try:
                if attempt:
                    self.link.discard_input()
                self.link.write(frame)
                written = True
                packet = self._read_packet(self.answer_timeout if attempt == 0 else self.byte_timeout * 4, number)
            except LinkDown:
                packet = None
                self._reopen_quietly()
            if packet is not None and packet.number == number and packet.message:
                self.last_number = number
                return packet.message
        if not written:
            raise NotDelivered("the link to the KKT is down")
        # The next exchange syncs first, so a packet the KKT did execute is never taken for the next one's answer.
        self.last_number = None
        raise AnswerLost(f"no answer to packet {number} after {ATTEMPTS} sends")

    def _reopen_quietly(self) -> None:
        with contextlib.suppress(LinkDown):
            self.link.reopen()

    def _read_packet(self, timeout: float, number: int | None = None) -> frames.PacketV2 | None:
        """The next well-formed packet (with ``number``, when given: stale answers before it are skipped)."""
        while True:
            packet = self._read_one(timeout)
            if packet is None or number is None or packet.number == number:
                return packet

    def _read_one(self, timeout: float) -> frames.PacketV2 | None:
        while True:
            first = self.link.read_byte(timeout)
            if first is None:
                return None
            if first == STX2:
                break
        raw = bytearray([STX2])
        unstuffed = 0
        needed = 2
        while unstuffed < needed:
            # A stuffed byte stands for at most one unstuffed byte (an escape for none), so asking for as many as
            # are still missing never reads past the frame's end.
            chunk = self.link.read_upto(needed - unstuffed, self.byte_timeout)
            if not chunk:
                return None
            raw += chunk
            first = unstuffed
            unstuffed += len(chunk) - chunk.count(frames.ESC)
            if first < 2 <= unstuffed:
                needed = frames.v2_frame_length(frames.unstuff(bytes(raw[1:])))
        try:
            return frames.decode_v2(bytes(raw))
        except FrameError:
            return None

    def close(self) -> None:
        self.link.close()
