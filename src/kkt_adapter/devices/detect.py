"""``kkt-adapter device detect``: is there a KKT, and is ATOL Web Requests in front of it?

Independent looks, each saying what it found or why it found nothing (the Shtrih-M's, on TCP 7778 and the serial
ports, is :mod:`.detect_shtrih`'s):

- the ATOL Web Requests server (``KKT_ATOL_URL``, Basic auth from ``KKT_ATOL_USER``/``KKT_ATOL_PASSWORD``):
  ``GET /api/v2/serverInfo`` for its versions and ``GET /api/v2/devices`` for the devices it drives;
- the USB devices the kernel lists in sysfs (``/sys/bus/usb/devices/*``), kept when their vendor id (and, for a
  vendor id that chip makers share, their product id) is one a KKT maker is publicly known to use
  (:data:`KNOWN_USB`, each with its public source; ``docs/hardware.md``, "Finding the device").

Nothing here opens a device or sends a task: it only reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kkt_adapter.devices.detect_shtrih import ShtrihReport

DEFAULT_ATOL_URL = "http://127.0.0.1:16732"
SYSFS_USB = Path("/sys/bus/usb/devices")


@dataclass(frozen=True)
class KnownUsb:
    """A vendor id (with a product id when the vendor id is a chip maker's, shared by many devices) of a KKT maker."""

    vendor_id: str
    product_id: str | None
    maker: str
    source: str
    #: Products of this vendor id that the public USB id database gives to another maker.
    other_makers_products: tuple[str, ...] = ()

    def matches(self, vendor_id: str, product_id: str | None) -> bool:
        if vendor_id != self.vendor_id or product_id in self.other_makers_products:
            return False
        return self.product_id is None or product_id == self.product_id


#: Only ids with a public source (repository and path) are listed; docs/hardware.md repeats the table.
KNOWN_USB: tuple[KnownUsb, ...] = (
    KnownUsb(
        "2912",
        None,
        "ATOL",
        "Likivik/spectacle, pkgs/atol-fptr10/default.nix (the udev rule packaged with ATOL's KKT driver v10)",
        # systemd/systemd, hwdb.d/20-usb-vendor-model.hwdb: 2912 is Audioengine's there, with these two DACs.
        other_makers_products=("20c8", "30c8"),
    ),
    KnownUsb(
        "0483",
        "3405",
        "Mercury (Incotex)",
        "suntoucha/fiscal, README.md (a Mercury KKT at 0483:3405; 0483 is STMicroelectronics', so the product counts)",
    ),
)


@dataclass(frozen=True)
class UsbDevice:
    """A USB device of a known KKT maker, as sysfs describes it (an attribute it lacks is ``None``)."""

    path: str
    vendor_id: str
    product_id: str | None
    maker: str
    manufacturer: str | None = None
    product: str | None = None
    serial: str | None = None

    def line(self) -> str:
        described = ", ".join(
            f"{name} {value!r}"
            for name, value in (("manufacturer", self.manufacturer), ("product", self.product), ("serial", self.serial))
            if value is not None
        )
        ids = f"{self.vendor_id}:{self.product_id or '????'}"
        return f"USB {self.path}: {self.maker} ({ids})" + (f", {described}" if described else "")


@dataclass(frozen=True)
class UsbScan:
    """The known devices found, or why the scan could not look."""

    devices: tuple[UsbDevice, ...] = ()
    problem: str | None = None


def _attribute(directory: Path, name: str) -> str | None:
    try:
        value = (directory / name).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return value or None


def scan_usb(root: Path = SYSFS_USB, known: tuple[KnownUsb, ...] = KNOWN_USB) -> UsbScan:
    """The USB devices under ``root`` (a sysfs ``bus/usb/devices`` directory) whose ids are a known KKT maker's."""
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        return UsbScan(problem=f"cannot list {root} ({exc.strerror or exc}): no USB scan on this system")
    found: list[UsbDevice] = []
    for entry in entries:
        vendor = _attribute(entry, "idVendor")
        if vendor is None:  # an interface or a hub port, not a device
            continue
        vendor, product = vendor.lower(), (_attribute(entry, "idProduct") or "").lower() or None
        maker = next((k.maker for k in known if k.matches(vendor, product)), None)
        if maker is None:
            continue
        found.append(
            UsbDevice(
                path=entry.name,
                vendor_id=vendor,
                product_id=product,
                maker=maker,
                manufacturer=_attribute(entry, "manufacturer"),
                product=_attribute(entry, "product"),
                serial=_attribute(entry, "serial"),
            )
        )
    return UsbScan(tuple(found))


@dataclass(frozen=True)
class ServerReport:
    """What the ATOL Web Requests server said, or why it could not be asked."""

    url: str
    reachable: bool
    problem: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    devices: tuple[dict[str, Any], ...] = ()
    devices_problem: str | None = None


class _Refused(Exception):
    """The server's answer was not what a Web Requests server gives."""


def _get_json(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    if response.status_code == 401:
        raise _Refused(
            "HTTP 401: the server wants credentials: set KKT_ATOL_USER and KKT_ATOL_PASSWORD (they are refused if set)"
        )
    if response.status_code != 200:
        raise _Refused(f"HTTP {response.status_code} for {path}")
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise _Refused(f"{path} answered, but not with JSON: is this ATOL Web Requests?") from exc


def _device_list(body: Any) -> tuple[dict[str, Any], ...]:
    """The devices of a ``/api/v2/devices`` answer: a list, or an object holding one."""
    if isinstance(body, dict):
        body = next((value for value in body.values() if isinstance(value, list)), [body] if body else [])
    if not isinstance(body, list):
        raise _Refused("/api/v2/devices answered with neither a list nor an object of devices")
    return tuple(item if isinstance(item, dict) else {"device": item} for item in body)


def probe_server(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 3.0,
    transport: httpx.BaseTransport | None = None,
) -> ServerReport:
    """Ask the server for its versions and its devices (a read only: no task is sent)."""
    auth = httpx.BasicAuth(user, password or "") if user else None
    try:
        with httpx.Client(base_url=url, auth=auth, timeout=timeout, transport=transport) as client:
            try:
                info = _get_json(client, "/api/v2/serverInfo")
            except _Refused as exc:
                return ServerReport(url, False, str(exc))
            try:
                devices = _device_list(_get_json(client, "/api/v2/devices"))
            except _Refused as exc:
                return ServerReport(url, True, info=_as_dict(info), devices_problem=str(exc))
    except httpx.ConnectError as exc:
        return ServerReport(url, False, f"no connection ({exc}): is ATOL Web Requests running there?")
    except httpx.TimeoutException:
        return ServerReport(url, False, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return ServerReport(url, False, f"{type(exc).__name__}: {exc}")
    return ServerReport(url, True, info=_as_dict(info), devices=devices)


def _as_dict(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {"serverInfo": body}


@dataclass(frozen=True)
class AtolConnection:
    """Where the ATOL server is and how to log in (from the settings, else the environment)."""

    url: str = DEFAULT_ATOL_URL
    user: str | None = None
    password: str | None = None


def atol_connection(env: Mapping[str, str] | None = None) -> AtolConnection:
    """``KKT_ATOL_URL``/``KKT_ATOL_USER``/``KKT_ATOL_PASSWORD``: through the settings when they define them (and
    ``.env``), else straight from the environment."""
    from kkt_adapter.config import ConfigError, load_settings

    environ = os.environ if env is None else env
    try:
        settings: Any = load_settings(env)
    except ConfigError:
        settings = None

    def value(name: str) -> str | None:
        found = getattr(settings, name, None)
        if found is not None and hasattr(found, "get_secret_value"):
            found = found.get_secret_value()
        if found is None:
            found = environ.get(f"KKT_{name.upper()}") or None
        return None if found is None else str(found)

    return AtolConnection(
        url=value("atol_url") or DEFAULT_ATOL_URL, user=value("atol_user"), password=value("atol_password")
    )


def report_lines(server: ServerReport, usb: UsbScan, shtrih: Sequence[ShtrihReport] = ()) -> tuple[list[str], bool]:
    """The report, a line per finding and a summary, and whether anything was found."""
    lines: list[str] = []
    if server.reachable:
        versions = ", ".join(
            f"{key} {server.info[key]}" for key in ("serverVersion", "driverVersion") if key in server.info
        )
        lines.append(f"ATOL Web Requests at {server.url}: reachable" + (f" ({versions})" if versions else ""))
        if server.devices_problem is not None:
            lines.append(f"  devices: not listed: {server.devices_problem}")
        for device in server.devices:
            lines.append("  device " + ", ".join(f"{key}={value}" for key, value in device.items()))
    else:
        lines.append(f"ATOL Web Requests at {server.url}: not reachable: {server.problem}")
    if usb.problem is not None:
        lines.append(f"USB: {usb.problem}")
    lines.extend(device.line() for device in usb.devices)
    lines.extend(report.line() for report in shtrih)
    shtrih_found = sum(report.found for report in shtrih)
    server_part = (
        f"server reachable, {len(server.devices)} device(s) listed" if server.reachable else "server not reachable"
    )
    usb_part = (
        "USB not scanned"
        if usb.problem is not None
        else f"{len(usb.devices)} USB device(s) of a known KKT maker"
        if usb.devices
        else "no USB device of a known KKT maker"
    )
    shtrih_part = (
        "" if not shtrih else f"; {shtrih_found} Shtrih-M KKT(s) answering" if shtrih_found else "; no Shtrih-M KKT"
    )
    lines.append(f"summary: {server_part}; {usb_part}{shtrih_part}")
    return lines, server.reachable or bool(usb.devices) or bool(shtrih_found)
