"""Shtrih-M's two framings, byte for byte, as a client builds and reads them: pure functions, no I/O.

- **v1** ("standard lower level"): ``STX(02) LEN MESSAGE LRC``; LEN counts the message (the command, one byte or
  ``FF xx``, and its data); LRC is the XOR of LEN and the message. Each frame is answered by one byte, ACK or NAK;
  ENQ asks the KKT whether an answer waits (ACK) or it is idle (NAK).
- **v2** ("alternative lower level"): ``8F`` then, byte-stuffed, ``LEN16 NUM16 MESSAGE CRC16``; LEN16 counts the
  message, NUM16 numbers the packet, CRC16 is CRC-16/CCITT (polynomial 1021h, initial FFFFh) over LEN16..MESSAGE.
  Stuffing: ``8F`` → ``9F 81``, ``9F`` → ``9F 83``. A packet with no message (LEN16 = 0) is a sync ping.

Multi-byte fields are little-endian, as every number of the protocol. Sources: the Shtrih KKT protocol 2.0
(shtrih-m/javapos_shtrih, Doc/SHTRIH); docs/hardware.md records the choices the sources leave open (the byte order
of LEN16/NUM16/CRC16, and that the CRC is stuffed with the rest).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from functools import reduce
from operator import xor

STX = 0x02
ENQ = 0x05
ACK = 0x06
NAK = 0x15
STX2 = 0x8F
ESC = 0x9F
#: The byte some devices send around their ACK over TCP, which the protocol does not describe: skipped.
TCP_NOISE = 0xFF

_STUFF = {STX2: b"\x9f\x81", ESC: b"\x9f\x83"}
_UNSTUFF = {0x81: STX2, 0x83: ESC}


class FrameError(ValueError):
    """Bytes that are not a well-formed frame (a bad checksum, length or escape)."""


def lrc(data: bytes) -> int:
    """The v1 checksum: the XOR of ``data`` (LEN and the message)."""
    return reduce(xor, data, 0)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 1021h, initial FFFFh, no reflection, no final XOR): v2's checksum.

    ``binascii.crc_hqx`` is this CRC (polynomial 1021h, MSB first, no final XOR) with the initial value given, in C:
    a bit-by-bit loop in Python cost about 30 µs a packet, two packets per command.
    """
    return binascii.crc_hqx(data, 0xFFFF)


def command_of(message: bytes) -> int:
    """The command a message starts with: one byte, or two (``FF xx``) for the FN commands."""
    if not message:
        raise FrameError("an empty message has no command")
    if message[0] == 0xFF:
        if len(message) < 2:
            raise FrameError("a message starting FF needs a second command byte")
        return 0xFF00 | message[1]
    return message[0]


def command_bytes(command: int) -> bytes:
    """The wire form of a command number: ``FF xx`` for FN commands (FF00h..FFFFh), else one byte."""
    return command.to_bytes(2, "big") if command > 0xFF else bytes([command])


# -- v1 ---------------------------------------------------------------------------------------------------------


def encode_v1(message: bytes) -> bytes:
    """A v1 frame carrying ``message``."""
    if not 1 <= len(message) <= 255:
        raise FrameError(f"a v1 message is 1..255 bytes, got {len(message)}")
    body = bytes([len(message)]) + message
    return bytes([STX]) + body + bytes([lrc(body)])


def decode_v1(frame: bytes) -> bytes:
    """The message of a complete v1 frame; :class:`FrameError` for a bad start, length or LRC."""
    if len(frame) < 3 or frame[0] != STX:
        raise FrameError(f"a v1 frame starts with STX: {frame[:8].hex(' ')}")
    length = frame[1]
    if len(frame) != length + 3:
        raise FrameError(f"v1 frame length {len(frame)} does not match LEN {length}")
    if lrc(frame[1:-1]) != frame[-1]:
        raise FrameError(f"v1 LRC {frame[-1]:02X} does not match {lrc(frame[1:-1]):02X}")
    return frame[2:-1]


# -- v2 ---------------------------------------------------------------------------------------------------------


def stuff(data: bytes) -> bytes:
    """Escape v2's frame start and escape bytes (the escape byte first, so that the escapes added for the start
    byte are not escaped again)."""
    return data.replace(b"\x9f", _STUFF[ESC]).replace(b"\x8f", _STUFF[STX2])


def unstuff(data: bytes) -> bytes:
    """Undo :func:`stuff`; :class:`FrameError` for an escape not followed by 81h or 83h."""
    if ESC not in data:
        return bytes(data)  # most packets hold no escape: nothing to undo
    out = bytearray()
    escaped = False
    for byte in data:
        if escaped:
            if byte not in _UNSTUFF:
                raise FrameError(f"v2 escape followed by {byte:02X}")
            out.append(_UNSTUFF[byte])
            escaped = False
        elif byte == ESC:
            escaped = True
        else:
            out.append(byte)
    if escaped:
        raise FrameError("v2 data ends inside an escape")
    return bytes(out)


@dataclass(frozen=True)
class PacketV2:
    """One v2 packet: its number and its message (empty for a sync ping)."""

    number: int
    message: bytes


def encode_v2(number: int, message: bytes) -> bytes:
    """A v2 frame: packet ``number`` carrying ``message`` (empty: a sync ping)."""
    if not 0 <= number <= 0xFFFF:
        raise FrameError(f"a v2 packet number is 0..65535, got {number}")
    body = len(message).to_bytes(2, "little") + number.to_bytes(2, "little") + message
    return bytes([STX2]) + stuff(body + crc16(body).to_bytes(2, "little"))


def decode_v2(frame: bytes) -> PacketV2:
    """The packet in a complete v2 frame (its start byte included); :class:`FrameError` if malformed."""
    if not frame or frame[0] != STX2:
        raise FrameError(f"a v2 frame starts with 8F: {frame[:8].hex(' ')}")
    body = unstuff(frame[1:])
    if len(body) < 6:
        raise FrameError(f"a v2 frame of {len(body)} bytes is too short")
    length = int.from_bytes(body[0:2], "little")
    if len(body) != length + 6:
        raise FrameError(f"v2 frame holds {len(body) - 6} message bytes, LEN16 says {length}")
    if crc16(body[:-2]) != int.from_bytes(body[-2:], "little"):
        raise FrameError("v2 CRC16 does not match")
    return PacketV2(int.from_bytes(body[2:4], "little"), body[4:-2])


def v2_frame_length(unstuffed_head: bytes) -> int:
    """How many unstuffed bytes follow the start byte in a v2 frame, from its first two (LEN16): LEN16 + 6."""
    return int.from_bytes(unstuffed_head[:2], "little") + 6


def next_number(number: int) -> int:
    """The packet number after ``number`` (wrapping at 65535)."""
    return (number + 1) & 0xFFFF
