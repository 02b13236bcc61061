"""The channels read a frame in pieces as the link hands them out, never past the frame's end."""

from __future__ import annotations

import pytest

from kkt_adapter.devices.shtrih import frames
from kkt_adapter.devices.shtrih.channel import V1Channel, V2Channel


class PiecesLink:
    """A link holding ``data``, handing out at most ``piece`` bytes per read (as a slow line does)."""

    def __init__(self, data: bytes, piece: int) -> None:
        self.data = bytearray(data)
        self.piece = piece

    def read_byte(self, timeout: float) -> int | None:
        return self.data.pop(0) if self.data else None

    def read_upto(self, count: int, timeout: float) -> bytes:
        taken = bytes(self.data[: min(count, self.piece)])
        del self.data[: len(taken)]
        return taken

    def write(self, data: bytes) -> None:
        """Nothing is sent in these tests."""

    def discard_input(self) -> None:
        self.data.clear()

    def reopen(self) -> None:
        """Never reopened here."""

    def close(self) -> None:
        """Nothing to release."""


@pytest.mark.parametrize("piece", [1, 2, 3, 1000])
def test_v2_packets_full_of_escapes_are_read_whole_and_no_further(piece: int) -> None:
    """Two packets back to back, their numbers and messages full of 8Fh and 9Fh: each read gives one packet."""
    first = frames.encode_v2(0x8F9F, bytes([0x9F, 0x8F, 0x00, 0x9F]))
    second = frames.encode_v2(0x9F8F, bytes([0x8F]) * 3)
    channel = V2Channel(PiecesLink(first + second, piece))
    assert channel._read_one(0.1) == frames.PacketV2(0x8F9F, bytes([0x9F, 0x8F, 0x00, 0x9F]))
    assert channel._read_one(0.1) == frames.PacketV2(0x9F8F, bytes([0x8F]) * 3)
    assert channel._read_one(0.1) is None


@pytest.mark.parametrize("piece", [1, 2, 1000])
def test_v1_frames_are_read_whole_and_no_further(piece: int) -> None:
    """Two v1 frames back to back: each read gives one message."""
    link = PiecesLink(frames.encode_v1(b"\x10\x00\x1e") + frames.encode_v1(b"\x88\x00\x1e"), piece)
    channel = V1Channel(link)
    assert channel._read_frame(0.1) == b"\x10\x00\x1e"
    assert channel._read_frame(0.1) == b"\x88\x00\x1e"
    assert channel._read_frame(0.1) is None
