"""The emulated Shtrih-M's line: v2's packet numbers, v1's handshake, and the line's fault programs."""

from __future__ import annotations

import os
import termios
import tty
from pathlib import Path

import pytest

from kkt_emulators.shtrih import MockShtrihServer
from shtrih_emulator.raw import ACK, ENQ, NAK, SYSADMIN, Raw, close, sale_item, v1, v2

STATUS = b"\x10" + SYSADMIN


class TestV2:
    def test_sync_ping_tells_the_last_number(self, raw: Raw) -> None:
        """An empty packet is answered with an empty packet numbered as the last one executed (0 at first)."""
        raw.send(v2(500, b""))
        assert raw.v2_packet() == (0, b"")

    def test_next_number_executes_and_a_repeat_replays(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """Packet 1 executes; packet 1 again returns the same answer without executing; packet 2 executes."""
        raw.send(v2(1, b"\xe0" + SYSADMIN))
        assert raw.v2_packet() == (1, b"\xe0\x00\x1e")
        executed = shtrih.machine.executed
        raw.send(v2(1, b"\xe0" + SYSADMIN))
        assert raw.v2_packet() == (1, b"\xe0\x00\x1e")
        assert shtrih.machine.executed == executed
        raw.send(v2(2, STATUS))
        number, answer = raw.v2_packet()
        assert number == 2 and answer[:2] == b"\x10\x00" and answer[5] == 2

    def test_a_number_out_of_order_replays_the_last_answer(self, raw: Raw) -> None:
        """Packet 7 after packet 1: the answer to packet 1 again, nothing executed."""
        raw.send(v2(1, STATUS))
        first = raw.v2_packet()
        raw.send(v2(7, b"\xe0" + SYSADMIN))
        assert raw.v2_packet() == first

    def test_a_lost_answer_is_read_again_by_repeating_the_number(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """lose_answer: the shift opens, no answer; the same packet again gets the answer, one shift opened."""
        shtrih.faults.program(lose_answer=1)
        raw.send(v2(1, b"\xe0" + SYSADMIN))
        assert raw.silent()
        raw.send(v2(1, b"\xe0" + SYSADMIN))
        assert raw.v2_packet() == (1, b"\xe0\x00\x1e")
        assert shtrih.kkt.status().shift_number == 1

    def test_a_duplicated_packet_runs_once(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """The line delivers a packet twice: two answers, one execution."""
        shtrih.faults.program(duplicate=1)
        raw.send(v2(1, b"\xe0" + SYSADMIN))
        assert raw.v2_packet() == raw.v2_packet() == (1, b"\xe0\x00\x1e")
        assert shtrih.kkt.status().shift_number == 1

    def test_numbers_outlive_the_connection(self, shtrih: MockShtrihServer) -> None:
        """After a reconnect, the sync ping still tells the last number executed."""
        first = Raw(shtrih.port)
        first.send(v2(1, STATUS))
        first.v2_packet()
        first.close()
        second = Raw(shtrih.port)
        second.send(v2(0, b""))
        assert second.v2_packet() == (1, b"")
        second.close()


class TestV1Faults:
    def test_nak_fault_executes_nothing(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """nak: the request is answered NAK and not executed; resending it works."""
        shtrih.faults.program(nak=1)
        raw.send(v1(b"\xe0" + SYSADMIN))
        assert raw.control() == NAK
        assert not shtrih.kkt.status().shift_open
        assert raw.call(b"\xe0" + SYSADMIN) == b"\xe0\x00\x1e"

    def test_silence_fault_ignores_a_request(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """silence: no ACK, nothing executed; ENQ then says the KKT is idle (NAK)."""
        shtrih.faults.program(silence=1)
        raw.send(v1(b"\xe0" + SYSADMIN))
        assert raw.silent()
        raw.send(ENQ)
        assert raw.control() == NAK
        assert not shtrih.kkt.status().shift_open

    def test_lost_answer_waits_for_enq(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """lose_answer: ACK, executed, no answer; ENQ gets ACK and the answer; then the KKT is idle again."""
        shtrih.faults.program(lose_answer=1)
        raw.send(v1(b"\xe0" + SYSADMIN))
        assert raw.control() == ACK
        assert raw.silent()
        raw.send(ENQ)
        assert raw.control() == ACK
        assert raw.v1_answer() == b"\xe0\x00\x1e"
        raw.send(ENQ)
        assert raw.control() == NAK

    def test_disconnect_keeps_the_answer_for_the_next_connection(self, shtrih: MockShtrihServer) -> None:
        """disconnect: executed, the connection dropped; ENQ on a new connection gets the answer."""
        shtrih.faults.program(disconnect=1)
        first = Raw(shtrih.port)
        first.send(v1(b"\xe0" + SYSADMIN))
        assert first.control() == ACK
        with pytest.raises((ConnectionError, TimeoutError, OSError)):
            first.read(1, 0.5)
        first.close()
        second = Raw(shtrih.port)
        second.send(ENQ)
        assert second.control() == ACK
        assert second.v1_answer() == b"\xe0\x00\x1e"
        second.close()

    def test_busy_refuses_without_executing(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """busy: 50h "still printing", nothing done; the next try works."""
        shtrih.faults.program(busy=1)
        assert raw.call(b"\xe0" + SYSADMIN) == b"\xe0\x50"
        assert raw.call(b"\xe0" + SYSADMIN) == b"\xe0\x00\x1e"

    def test_a_bad_lrc_is_answered_nak(self, raw: Raw) -> None:
        """A frame with a wrong LRC: NAK."""
        frame = bytearray(v1(STATUS))
        frame[-1] ^= 0xFF
        raw.send(bytes(frame))
        assert raw.control() == NAK


class TestPaper:
    def test_paper_out_refuses_before_printing(self, raw: Raw, shtrih: MockShtrihServer) -> None:
        """paper_out: 8Dh answers 6Bh, submode 1; the cover open refuses too."""
        shtrih.faults.program(paper_out=True)
        assert raw.call(b"\x8d" + SYSADMIN + b"\x00") == b"\x8d\x6b"
        assert raw.call(STATUS)[6] == 1
        shtrih.faults.program(paper_out=False, cover_open=True)
        assert raw.call(b"\x8d" + SYSADMIN + b"\x00")[1] != 0
        status = raw.call(STATUS)
        assert int.from_bytes(status[3:5], "little") & (1 << 9)

    def test_paper_out_during_close_keeps_the_document_and_waits_for_b0(
        self, raw: Raw, shtrih: MockShtrihServer
    ) -> None:
        """The paper ends while the close prints: 6Bh, yet the FN holds the receipt; submode 2, then 3 when the
        paper is back; printing refused (58h) until B0h."""
        before = shtrih.kkt.status().last_fd_number
        raw.call(b"\x8d" + SYSADMIN + b"\x00")
        raw.call(sale_item(100))
        shtrih.faults.program(paper_out_in_close=1)
        assert raw.call(close(100)) == b"\xff\x45\x6b"
        assert shtrih.kkt.status().last_fd_number == before + 2  # the shift's opening and the receipt
        assert raw.call(STATUS)[5:7] == b"\x02\x02"
        assert raw.call(b"\xb0" + SYSADMIN) == b"\xb0\x6b"
        shtrih.faults.program(paper_out=False)
        assert raw.call(STATUS)[6] == 3
        assert raw.call(b"\x8d" + SYSADMIN + b"\x00") == b"\x8d\x58"
        assert raw.call(b"\xb0" + SYSADMIN) == b"\xb0\x00\x1e"
        assert raw.call(STATUS)[6] == 0


def test_serial_through_a_pty(tmp_path: Path) -> None:
    """--pty: the same KKT answers v1 through a real tty device file."""
    link = tmp_path / "ttyShtrih"
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt", pty_path=link):
        fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            termios.tcflush(fd, termios.TCIOFLUSH)
            os.write(fd, ENQ)
            assert _read(fd, 1) == NAK
            os.write(fd, v1(STATUS))
            assert _read(fd, 1) == ACK
            head = _read(fd, 2)
            body = _read(fd, head[1] + 1)
            os.write(fd, ACK)
            assert body[:2] == b"\x10\x00" and body[5] == 4
        finally:
            os.close(fd)
    assert not link.exists()


def _read(fd: int, n: int) -> bytes:
    import select

    data = b""
    while len(data) < n:
        ready, _, _ = select.select([fd], [], [], 2.0)
        assert ready, "the pty stayed silent"
        data += os.read(fd, n - len(data))
    return data


def test_admin_hook_programs_faults(tmp_path: Path) -> None:
    """POST /admin/faults arms a fault the next request meets; DELETE clears; unknown names are 422."""
    import httpx

    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt", admin_port=0) as server:
        assert server.admin is not None
        with httpx.Client(base_url=server.admin.url, timeout=2) as http:
            assert http.post("/admin/faults", json={"busy": 1}).json()["busy"] == 1
            assert http.post("/admin/faults", json={"nonsense": 1}).status_code == 422
            raw = Raw(server.port)
            assert raw.call(STATUS) == b"\x10\x50"
            http.post("/admin/faults", json={"paper_out": True})
            assert http.delete("/admin/faults").json()["paper_out"] is False
            raw.close()


def test_cli_runs_the_emulator(tmp_path: Path) -> None:
    """`emulate shtrih --port 0 --pty PATH` starts, says where it listens, and stops on SIGTERM."""
    import signal
    import subprocess
    import sys

    pty_link = tmp_path / "tty"
    command = [sys.executable, "-m", "kkt_emulators.cli", "shtrih", "--port", "0", "--pty", str(pty_link)]
    process = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path / "kkt")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert "listening on tcp://127.0.0.1:" in lines[1]
        port = int(lines[1].rsplit(":", 1)[1])
        raw = Raw(port)
        assert raw.call(STATUS)[:2] == b"\x10\x00"
        raw.close()
        assert pty_link.is_symlink()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
