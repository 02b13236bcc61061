"""``kkt-adapter device detect``: the USB scan on a fake sysfs tree, the ATOL server probe, and the command line."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from kkt_adapter.cli import build_app
from kkt_adapter.devices.detect import (
    UsbDevice,
    atol_connection,
    probe_server,
    report_lines,
    scan_usb,
)

INFO = {"serverVersion": "1.2.3", "driverVersion": "10.10.9.0", "currentDateTime": "2026-11-30T10:00:00+03:00"}
DEVICES = [{"id": "1", "name": "АТОЛ 22 v2Ф", "serialNumber": "00106900000001"}]


def usb(root: Path, name: str, **attributes: str) -> None:
    """One sysfs device directory with the given attribute files."""
    directory = root / name
    directory.mkdir(parents=True)
    for attribute, value in attributes.items():
        (directory / attribute).write_text(value + "\n", encoding="utf-8")


@pytest.fixture
def sysfs(tmp_path: Path) -> Path:
    """A sysfs USB tree: an ATOL KKT, a Mercury KKT without descriptive strings, and devices that are not KKTs."""
    root = tmp_path / "sys" / "bus" / "usb" / "devices"
    usb(root, "1-1", idVendor="2912", idProduct="0005", manufacturer="ATOL", product="FPrint-22PTK", serial="0123")
    usb(root, "1-1:1.0", bInterfaceClass="02")  # an interface: no idVendor
    usb(root, "1-2", idVendor="0483", idProduct="3405")  # no manufacturer, product or serial files
    usb(root, "1-3", idVendor="0483", idProduct="5740", product="STM32 Virtual ComPort")  # the chip maker's, not a KKT
    usb(root, "1-4", idVendor="046D", idProduct="C52B", manufacturer="Logitech")
    usb(root, "1-5", idVendor="2912", idProduct="20c8", product="D1")  # the USB id database's Audioengine DAC
    usb(root, "usb1", idVendor="1d6b", idProduct="0002")
    return root


def test_the_scan_keeps_known_kkt_makers_only(sysfs: Path) -> None:
    """ATOL by vendor id and Mercury by vendor and product id are found; interfaces, other devices and the DACs the
    USB id database gives ATOL's vendor id to are not."""
    scan = scan_usb(sysfs)
    assert scan.problem is None
    assert scan.devices == (
        UsbDevice("1-1", "2912", "0005", "ATOL", manufacturer="ATOL", product="FPrint-22PTK", serial="0123"),
        UsbDevice("1-2", "0483", "3405", "Mercury (Incotex)"),
    )
    assert scan.devices[1].line() == "USB 1-2: Mercury (Incotex) (0483:3405)"


def test_the_scan_reads_upper_case_ids_and_says_when_it_cannot_look(tmp_path: Path) -> None:
    """Ids are compared in lower case; a missing sysfs is a reason, not an empty result."""
    usb(tmp_path, "2-1", idVendor="2912", idProduct="000A")
    (found,) = scan_usb(tmp_path).devices
    assert (found.vendor_id, found.product_id) == ("2912", "000a")
    missing = scan_usb(tmp_path / "absent")
    assert missing.devices == () and missing.problem is not None and "no USB scan" in missing.problem


def atol(*, user: str | None = None, password: str | None = None, devices: Any = DEVICES) -> httpx.MockTransport:
    """A Web Requests server: serverInfo without auth, devices behind Basic auth when a user is set."""
    expected = None if user is None else "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/serverInfo":
            return httpx.Response(200, json=INFO)
        if request.url.path == "/api/v2/devices":
            if expected is not None and request.headers.get("Authorization") != expected:
                return httpx.Response(401)
            return httpx.Response(200, json=devices)
        return httpx.Response(404)

    return httpx.MockTransport(handle)


def test_a_reachable_server_gives_its_versions_and_devices() -> None:
    """Both answers are read: the versions from serverInfo, the device list from devices."""
    report = probe_server("http://atol.test", transport=atol())
    assert (report.reachable, report.problem, report.devices_problem) == (True, None, None)
    assert report.info["serverVersion"] == "1.2.3"
    assert report.devices == tuple(DEVICES)
    lines, found = report_lines(report, scan_usb(Path("/nonexistent")))
    assert found
    assert lines[0] == "ATOL Web Requests at http://atol.test: reachable (serverVersion 1.2.3, driverVersion 10.10.9.0)"
    assert "id=1" in lines[1] and "АТОЛ 22 v2Ф" in lines[1]
    assert lines[-1] == "summary: server reachable, 1 device(s) listed; USB not scanned"


def test_an_object_of_devices_is_read_as_its_list() -> None:
    """A devices answer wrapped in an object (``{"deviceList": [...]}``) lists the same devices."""
    report = probe_server("http://atol.test", transport=atol(devices={"deviceList": DEVICES}))
    assert report.devices == tuple(DEVICES)


def test_basic_auth_is_sent_and_a_401_names_the_settings() -> None:
    """With the right credentials the devices are listed; without them the reason names KKT_ATOL_USER."""
    server = atol(user="admin", password="s3cret")
    assert probe_server("http://atol.test", user="admin", password="s3cret", transport=server).devices == tuple(DEVICES)
    refused = probe_server("http://atol.test", transport=server)
    assert refused.reachable and refused.devices == ()
    assert refused.devices_problem is not None and "KKT_ATOL_USER" in refused.devices_problem
    lines, _ = report_lines(refused, scan_usb(Path("/nonexistent")))
    assert any("devices: not listed: HTTP 401" in line for line in lines)
    assert not any("s3cret" in line for line in lines)


def test_a_server_that_does_not_answer_json_is_not_taken_for_atol() -> None:
    """An HTML page at the URL is reported as not a Web Requests server."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>router</html>"))
    report = probe_server("http://atol.test", transport=transport)
    assert not report.reachable
    assert report.problem is not None and "not with JSON" in report.problem


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_reported() -> None:
    """Nothing listening on the port: not reachable, with the reason."""
    report = probe_server(f"http://127.0.0.1:{free_port()}", timeout=1)
    assert not report.reachable
    assert report.problem is not None and "no connection" in report.problem


def test_the_connection_comes_from_the_environment() -> None:
    """URL, user and password are read from KKT_ATOL_* (the default URL without them)."""
    env = {"KKT_ATOL_URL": "http://10.0.0.5:16732", "KKT_ATOL_USER": "admin", "KKT_ATOL_PASSWORD": "s3cret"}
    connection = atol_connection(env)
    assert (connection.url, connection.user, connection.password) == ("http://10.0.0.5:16732", "admin", "s3cret")
    assert atol_connection({}).url == "http://127.0.0.1:16732"


class _AtolHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = {"/api/v2/serverInfo": INFO, "/api/v2/devices": DEVICES}.get(self.path)
        payload = json.dumps(body).encode()
        self.send_response(404 if body is None else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def atol_server() -> Iterator[str]:
    """A tiny Web Requests stand-in on a loopback port: serverInfo and devices."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AtolHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_command_lists_the_server_and_the_usb_devices(
    atol_server: str, sysfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`device detect` prints a line per finding and a summary, and exits 0 when something was found."""
    monkeypatch.setenv("KKT_ATOL_URL", atol_server)
    result = CliRunner().invoke(build_app(), ["device", "detect", "--sysfs", str(sysfs), *no_shtrih(sysfs)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"ATOL Web Requests at {atol_server}: reachable")
    assert "USB 1-1: ATOL (2912:0005), manufacturer 'ATOL', product 'FPrint-22PTK', serial '0123'" in lines
    assert lines[-1] == (
        "summary: server reachable, 1 device(s) listed; 2 USB device(s) of a known KKT maker; no Shtrih-M KKT"
    )


def test_the_command_exits_1_when_nothing_is_found(tmp_path: Path) -> None:
    """No server on the URL given and no known USB device: exit status 1 and a summary saying so."""
    url = f"http://127.0.0.1:{free_port()}"
    command = ["device", "detect", "--url", url, "--sysfs", str(tmp_path), *no_shtrih(tmp_path)]
    result = CliRunner().invoke(build_app(), command)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == (
        "summary: server not reachable; no USB device of a known KKT maker; no Shtrih-M KKT"
    )


def no_shtrih(tmp_path: Path) -> list[str]:
    """Options that point the Shtrih-M probe at a closed port and a missing serial port (nothing on this machine)."""
    return ["--shtrih-url", f"tcp://127.0.0.1:{free_port()}", "--serial-port", str(tmp_path / "no-tty")]


def test_the_command_finds_a_shtrih_on_tcp_and_on_a_serial_port(tmp_path: Path) -> None:
    """The emulated Shtrih-M answers FCh on its TCP port and on its serial device file (a pty): both are listed with
    the model and protocol, and the command exits 0."""
    from kkt_emulators.shtrih import MockShtrihServer

    url = f"http://127.0.0.1:{free_port()}"
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt", pty_path=tmp_path / "tty") as kkt:
        tcp = kkt.url
        command = ["device", "detect", "--url", url, "--sysfs", str(tmp_path), "--shtrih-url", tcp]
        result = CliRunner().invoke(build_app(), [*command, "--serial-port", str(tmp_path / "tty")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(f"Shtrih-M at {tcp}: ") and "(protocol v2)" in line for line in lines), lines
    assert any(line.startswith(f"Shtrih-M at serial://{tmp_path / 'tty'}?baud=115200: ") for line in lines), lines
    assert lines[-1].endswith("; 2 Shtrih-M KKT(s) answering")
