"""The emulator's framing, byte for byte, against frames written by hand."""

from __future__ import annotations

import random

import pytest

from kkt_emulators.shtrih import frames
from kkt_emulators.shtrih.frames import BadFrame


def test_v1_answer_matches_a_field_log() -> None:
    """The cancel answer (88h, error 0, operator 30) frames as a real KKT's did (re-star-ru/shtrih-m-driver)."""
    assert frames.v1_frame(bytes.fromhex("88 00 1E")) == bytes.fromhex("02 03 88 00 1E 95")


def test_v1_check_refuses_a_wrong_lrc() -> None:
    """A request whose LRC is wrong is a BadFrame (the KKT answers NAK)."""
    assert frames.v1_check(5, bytes.fromhex("88 1E 00 00 00"), 0x93) == bytes.fromhex("88 1E 00 00 00")
    with pytest.raises(BadFrame):
        frames.v1_check(5, bytes.fromhex("88 1E 00 00 00"), 0x94)


def test_crc16_check_value() -> None:
    """CRC-16/CCITT-FALSE of "123456789" is 29B1h."""
    assert frames.crc16_ccitt(b"123456789") == 0x29B1


def test_crc_and_escaping_equal_their_bytewise_definitions() -> None:
    """The C CRC and the replace-based escaping give what the byte-by-byte definitions give."""
    rng = random.Random(20261208)
    for size in range(0, 300, 3):
        data = bytes(rng.choice((0x00, 0x8F, 0x9F, 0x81, rng.randrange(256))) for _ in range(size))
        crc = 0xFFFF
        for byte in data:
            crc ^= byte << 8
            for _ in range(8):
                crc = (crc << 1 ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
        assert frames.crc16_ccitt(data) == crc
        expected = b"".join({0x8F: b"\x9f\x81", 0x9F: b"\x9f\x83"}.get(byte, bytes([byte])) for byte in data)
        assert frames.escape(data) == expected


def test_v2_frame_is_stuffed_after_its_start_byte() -> None:
    """Packet 0x8F carrying 9Fh: every 8Fh/9Fh after the start byte is escaped."""
    frame = frames.v2_frame(0x8F, b"\x9f")
    body = bytes.fromhex("01 00 8F 00 9F")
    crc = frames.crc16_ccitt(body).to_bytes(2, "little")
    assert frame == b"\x8f" + frames.escape(body + crc)
    assert frame.count(0x8F) == 1
    assert frames.v2_check(body + crc) == (0x8F, b"\x9f")


def test_v2_check_refuses_damage() -> None:
    """A changed byte or a length that disagrees is a BadFrame."""
    body = bytes.fromhex("01 00 02 00 10")
    good = body + frames.crc16_ccitt(body).to_bytes(2, "little")
    with pytest.raises(BadFrame):
        frames.v2_check(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(BadFrame):
        frames.v2_check(bytes.fromhex("02 00") + good[2:])
    with pytest.raises(BadFrame):
        frames.unescape_byte(0x80)
