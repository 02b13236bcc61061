"""The KKT's side of Shtrih-M's two framings, written apart from any client so that it can judge one.

- v1: ``STX(02) LEN MESSAGE LRC``, LRC = XOR of LEN and MESSAGE; single control bytes ENQ 05, ACK 06, NAK 15.
- v2: ``8F`` + byte-stuffed ``LEN16 NUM16 MESSAGE CRC16`` (little-endian; CRC-16/CCITT, polynomial 1021h, initial
  FFFFh, over LEN16..MESSAGE); stuffing ``8F`` → ``9F 81`` and ``9F`` → ``9F 83``; LEN16 = 0 is a sync ping.

Source: the Shtrih KKT protocol 2.0 (shtrih-m/javapos_shtrih, Doc/SHTRIH); the choices it leaves open are listed
in docs/hardware.md.
"""

from __future__ import annotations

import binascii

STX = 0x02
ENQ = 0x05
ACK = 0x06
NAK = 0x15
STX2 = 0x8F
ESC = 0x9F


class BadFrame(ValueError):
    """A frame whose checksum, length or escapes are wrong."""


def lrc(data: bytes) -> int:
    """XOR of every byte."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 1021h, initial FFFFh, MSB first, no final XOR (``binascii.crc_hqx`` with
    FFFFh is this CRC, computed in C: the device computes it in firmware, the emulator should not spend its time)."""
    return binascii.crc_hqx(data, 0xFFFF)


def v1_frame(message: bytes) -> bytes:
    """The v1 frame of an answer message."""
    body = bytes([len(message)]) + message
    return bytes([STX]) + body + bytes([lrc(body)])


def v1_check(length: int, message: bytes, checksum: int) -> bytes:
    """The message of a received v1 frame, or :class:`BadFrame`."""
    if len(message) != length:
        raise BadFrame("v1 length mismatch")
    if lrc(bytes([length]) + message) != checksum:
        raise BadFrame("v1 LRC mismatch")
    return message


def escape(data: bytes) -> bytes:
    """v2 byte stuffing: 9Fh first, so that the 9Fh of an escaped 8Fh is not escaped again."""
    return bytes(data).replace(b"\x9f", b"\x9f\x83").replace(b"\x8f", b"\x9f\x81")


def unescape_byte(byte: int) -> int:
    """The byte an escape sequence ``9F byte`` stands for."""
    if byte == 0x81:
        return STX2
    if byte == 0x83:
        return ESC
    raise BadFrame(f"bad v2 escape 9F {byte:02X}")


def v2_frame(number: int, message: bytes) -> bytes:
    """The v2 frame of an answer message (empty: the answer to a sync ping)."""
    body = len(message).to_bytes(2, "little") + (number & 0xFFFF).to_bytes(2, "little") + message
    return bytes([STX2]) + escape(body + crc16_ccitt(body).to_bytes(2, "little"))


def v2_check(body: bytes) -> tuple[int, bytes]:
    """``(number, message)`` of an unstuffed v2 body (LEN16..CRC16), or :class:`BadFrame`."""
    if len(body) < 6 or int.from_bytes(body[:2], "little") != len(body) - 6:
        raise BadFrame("v2 length mismatch")
    if crc16_ccitt(body[:-2]) != int.from_bytes(body[-2:], "little"):
        raise BadFrame("v2 CRC mismatch")
    return int.from_bytes(body[2:4], "little"), body[4:-2]
