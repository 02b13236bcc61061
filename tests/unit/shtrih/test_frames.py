"""The driver's framing, byte for byte, against frames written by hand from the protocol's rules and public logs."""

from __future__ import annotations

import random

import pytest

from kkt_adapter.devices.shtrih import frames
from kkt_adapter.devices.shtrih.frames import FrameError, PacketV2

# A cancel (88h) with password 30 and its answer, as logged by a Go client (re-star-ru/shtrih-m-driver docs/out.txt).
CANCEL_REQUEST = bytes.fromhex("02 05 88 1E 00 00 00 93")
CANCEL_ANSWER = bytes.fromhex("02 03 88 00 1E 95")


def crc16_bitwise(data: bytes) -> int:
    """CRC-16/CCITT-FALSE bit by bit, as the catalogue defines it: the reference the fast CRC is held to."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def stuff_bytewise(data: bytes) -> bytes:
    """Stuffing byte by byte: the reference the fast stuffing is held to."""
    return b"".join({0x8F: b"\x9f\x81", 0x9F: b"\x9f\x83"}.get(byte, bytes([byte])) for byte in data)


class TestV1:
    def test_cancel_request_matches_a_field_log(self) -> None:
        """A cancel with password 30 encodes to the bytes a real client sent."""
        assert frames.encode_v1(bytes.fromhex("88 1E 00 00 00")) == CANCEL_REQUEST

    def test_field_answer_decodes(self) -> None:
        """The logged answer decodes to command 88h, error 0, operator 30."""
        assert frames.decode_v1(CANCEL_ANSWER) == bytes.fromhex("88 00 1E")

    @pytest.mark.parametrize(
        "frame",
        [
            bytes.fromhex("02 03 88 00 1E 94"),  # LRC off by one
            bytes.fromhex("02 04 88 00 1E 95"),  # LEN says four
            bytes.fromhex("03 03 88 00 1E 95"),  # not STX
            bytes.fromhex("02"),
        ],
    )
    def test_malformed_frames_are_refused(self, frame: bytes) -> None:
        """A wrong LRC, length or start byte is a FrameError, never a message."""
        with pytest.raises(FrameError):
            frames.decode_v1(frame)

    def test_lrc_covers_length_and_message(self) -> None:
        """LRC is the XOR of LEN and every message byte (STX excluded)."""
        assert frames.lrc(bytes.fromhex("01 10")) == 0x11
        assert frames.encode_v1(b"\x10") == bytes.fromhex("02 01 10 11")

    def test_fn_commands_take_two_bytes(self) -> None:
        """A message starting FFh names a two-byte FN command."""
        assert frames.command_of(bytes.fromhex("FF 01 1E 00 00 00")) == 0xFF01
        assert frames.command_of(bytes.fromhex("10 1E 00 00 00")) == 0x10
        assert frames.command_bytes(0xFF45) == b"\xff\x45"
        assert frames.command_bytes(0xE0) == b"\xe0"

    def test_a_message_too_long_for_one_byte_of_length_is_refused(self) -> None:
        """v1's LEN is one byte: 256 message bytes cannot be framed."""
        with pytest.raises(FrameError):
            frames.encode_v1(bytes(256))


class TestV2:
    def test_crc16_check_value(self) -> None:
        """CRC-16/CCITT-FALSE of "123456789" is 29B1h, the catalogue's check value."""
        assert frames.crc16(b"123456789") == 0x29B1

    def test_crc_and_stuffing_equal_their_bytewise_definitions(self) -> None:
        """On data rich in 8Fh and 9Fh (and plain data), the C CRC and the replace-based stuffing give the bytes the
        definitions give, and unstuffing undoes them."""
        rng = random.Random(20261208)
        for size in range(0, 300, 3):
            for alphabet in (range(256), (0x00, 0x8F, 0x9F, 0x81, 0x83)):
                data = bytes(rng.choice(alphabet) for _ in range(size))
                assert frames.crc16(data) == crc16_bitwise(data)
                assert frames.stuff(data) == stuff_bytewise(data)
                assert frames.unstuff(frames.stuff(data)) == data

    def test_short_status_packet(self) -> None:
        """A short status (10h, password 30) as packet 1: 8F, LEN16, NUM16, message, CRC16, little-endian."""
        body = bytes.fromhex("05 00 01 00 10 1E 00 00 00")
        crc = frames.crc16(body)
        assert frames.encode_v2(1, bytes.fromhex("10 1E 00 00 00")) == b"\x8f" + body + crc.to_bytes(2, "little")

    def test_stuffing_escapes_start_and_escape_bytes(self) -> None:
        """8Fh becomes 9F 81 and 9Fh becomes 9F 83, both ways."""
        assert frames.stuff(bytes.fromhex("01 8F 9F 02")) == bytes.fromhex("01 9F 81 9F 83 02")
        assert frames.unstuff(bytes.fromhex("01 9F 81 9F 83 02")) == bytes.fromhex("01 8F 9F 02")

    def test_a_packet_holding_the_special_bytes_round_trips(self) -> None:
        """A message and number full of 8Fh and 9Fh survive stuffing; the frame holds one 8Fh, its first byte."""
        message = bytes([0x8F, 0x9F, 0x00, 0x8F])
        frame = frames.encode_v2(0x9F8F, message)
        assert frame.count(0x8F) == 1 and frame[0] == 0x8F
        assert frames.decode_v2(frame) == PacketV2(0x9F8F, message)

    def test_sync_ping_is_an_empty_packet(self) -> None:
        """LEN16 = 0: a ping carrying only its number."""
        frame = frames.encode_v2(7, b"")
        assert frames.decode_v2(frame) == PacketV2(7, b"")
        assert frames.v2_frame_length(frames.unstuff(frame[1:3])) == 6

    @pytest.mark.parametrize("damage", [1, 3, 5, -1])
    def test_a_damaged_packet_is_refused(self, damage: int) -> None:
        """Any changed byte breaks the CRC or the length."""
        frame = bytearray(frames.encode_v2(3, b"\x10\x1e\x00\x00\x00"))
        frame[damage] ^= 0x01
        with pytest.raises(FrameError):
            frames.decode_v2(bytes(frame))

    @pytest.mark.parametrize("stuffed", [bytes.fromhex("9F 80"), bytes.fromhex("01 9F")])
    def test_bad_escapes_are_refused(self, stuffed: bytes) -> None:
        """An escape followed by anything but 81h/83h, or left open, is malformed."""
        with pytest.raises(FrameError):
            frames.unstuff(stuffed)

    def test_packet_numbers_wrap(self) -> None:
        """After 65535 comes 0."""
        assert frames.next_number(0xFFFF) == 0
        assert frames.next_number(5) == 6
