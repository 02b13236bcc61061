"""The FN's refusals on the Shtrih-M (a shift over 24 h, the FN's life over, its archive full, the 30-day block):
switched on in the emulator from Python, its admin endpoint or its CLI flags, and answered by the driver as definite
refusals that print nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from kkt_adapter.devices.shtrih import ShtrihDriver, connect
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable, ShiftConflict
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_clock import SystemClock
from kkt_emulators.shtrih import MockShtrihServer

SALE = Receipt("pos-1", "sale", (Item("Хлеб", 5_000, Decimal(1), 5_000, 11),), (Payment("cash", 5_000),))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockShtrihServer]:
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt", admin_port=0) as kkt:
        yield kkt


@pytest.fixture
def driver(server: MockShtrihServer, tmp_path: Path) -> Iterator[ShtrihDriver]:
    made = connect(server.url, tmp_path / "state", clock=SystemClock(), protocol="v2", answer_timeout=0.5)
    made.open_shift(idempotency_key="open")
    yield made
    made.close()


def assert_definite(error: DeviceRefused) -> None:
    """A refusal another KKT may take: not the receipt's fault, not an unreachable device, not a shift conflict."""
    assert not isinstance(error, DeviceRejectedReceipt | DeviceUnavailable | ShiftConflict)


@pytest.mark.parametrize(
    ("fault", "code"),
    [("fn_expired", "fn_expired"), ("fn_full", "fn_archive_full"), ("ofd_30_days", "fn_ofd_timeout_30_days")],
)
def test_an_fn_that_takes_no_documents_refuses_definitely(
    server: MockShtrihServer, driver: ShtrihDriver, fault: str, code: str
) -> None:
    """The switch on, a sale is a definite refusal named after the FN's state; no document is made, none is left open;
    switched off, the same key prints."""
    last = server.kkt.status().last_fd_number
    server.faults.program(**{fault: True})
    with pytest.raises(DeviceRefused) as refused:
        driver.print_receipt(SALE, idempotency_key="k")
    assert refused.value.code == code
    assert_definite(refused.value)
    assert server.kkt.status().last_fd_number == last
    assert driver.device.status().mode == 2, "no receipt left open"
    server.faults.clear()
    assert driver.print_receipt(SALE, idempotency_key="k").fiscal_doc_number == last + 1


def test_an_expired_fn_refuses_the_shift_too(server: MockShtrihServer, driver: ShtrihDriver) -> None:
    """With the FN's life over the Z report still closes the shift, and the next shift cannot be opened."""
    server.faults.program(fn_expired=True)
    driver.close_shift(idempotency_key="z")
    with pytest.raises(DeviceRefused) as refused:
        driver.open_shift(idempotency_key="open-2")
    assert refused.value.code == "fn_expired"


def test_a_shift_over_24_hours_refuses_until_the_z_report(server: MockShtrihServer, driver: ShtrihDriver) -> None:
    """Mode 3: the state says the shift expired, a sale is refused as ``shift_expired`` (what the shift policy closes
    and reopens on), the Z report closes it, and the next shift sells."""
    server.faults.program(shift_over_24h=True)
    assert driver.state().shift_expired is True
    with pytest.raises(DeviceRefused) as refused:
        driver.print_receipt(SALE, idempotency_key="k")
    assert refused.value.code == "shift_expired"
    assert_definite(refused.value)
    driver.close_shift(idempotency_key="z")
    assert server.faults.shift_over_24h is False
    driver.open_shift(idempotency_key="open-2")
    assert driver.state().shift_expired is False
    assert driver.print_receipt(SALE, idempotency_key="k").shift_number == 2


def test_the_admin_endpoint_switches_the_fn_faults(server: MockShtrihServer) -> None:
    """POST /admin/faults turns each switch on; DELETE turns them all off."""
    assert server.admin is not None
    names = {"shift_over_24h": True, "fn_expired": True, "fn_full": True, "ofd_30_days": True}
    with httpx.Client(base_url=server.admin.url, timeout=2) as http:
        assert http.post("/admin/faults", json=names).json().items() >= names.items()
        assert (server.faults.fn_full, server.faults.ofd_30_days) == (True, True)
        cleared = http.delete("/admin/faults").json()
    assert not any(cleared[name] for name in names)


def test_the_cli_flags_switch_the_fn_faults(tmp_path: Path) -> None:
    """``emulate shtrih --shift-over-24h --fn-expired --fn-full --ofd-30-days`` starts with those switches on."""
    command = [sys.executable, "-m", "kkt_emulators.cli", "shtrih", "--port", "0", "--admin-port", "0"]
    flags = ["--shift-over-24h", "--fn-expired", "--fn-full", "--ofd-30-days", "--data-dir", str(tmp_path / "kkt")]
    process = subprocess.Popen([*command, *flags], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        admin = next(line.rsplit(" ", 1)[1].strip() for line in lines if "admin on" in line)
        faults = httpx.get(f"{admin}/admin/faults", timeout=2).json()
        assert [faults[name] for name in ("shift_over_24h", "fn_expired", "fn_full", "ofd_30_days")] == [True] * 4
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
