"""What the ATOL driver sends, as the ATOL emulator receives and records it, over real HTTP: ``operator`` on every
fiscal task and ``taxationType`` on every receipt and correction (the emulator refuses either missing, error 8, as
the public JSON schema of ATOL's tasks requires), the X report with the device's own totals, and — with the adapter
in its own process — a KKT registered with several taxation systems answered 422 naming ``taxation``.

The emulated KKT keeps what each task carried in its documents' tags: 1021/1203 the cashier, 1055 the taxation
system (a bitmask of registered systems in the registration report; one bit on a receipt).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import pytest

from kkt_adapter.devices.atol import AtolDriver, job_uuid
from kkt_adapter.devices.emulated import EmulatedDriver
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import FieldRequired
from kkt_adapter.domain.fiscal_defaults import DEFAULT_CASHIER_NAME
from kkt_adapter.domain.receipt import Cashier
from kkt_adapter.testing import bodies
from kkt_adapter.testing.process import AdapterProcess
from kkt_clock import SystemClock
from kkt_emulators.atol import MockAtolServer
from kkt_emulators.device import EmulatedKKT

from .test_atol_driver import REFUND, SALE, make_driver

#: OSN and USN income: a KKT registered with two taxation systems (tag 1055 bitmask).
TWO_SYSTEMS = 1 | 2


@pytest.fixture
def driver(mock_atol_server: MockAtolServer) -> Iterator[AtolDriver]:
    made = make_driver(mock_atol_server.url)
    yield made
    made.close()


def tags_of(server: MockAtolServer, key: str) -> dict[str, object]:
    document = server.kkt.find_by_key(job_uuid(key, 0))
    assert document is not None
    return dict(document.tags)


def test_every_fiscal_task_reaches_the_kkt_with_its_cashier_and_taxation(
    mock_atol_server: MockAtolServer, driver: AtolDriver
) -> None:
    """A sale naming neither prints under the default cashier and the KKT's one registered system (OSN); a named
    cashier and system are kept; the Z report and the shift opening carry their cashier (1021), as FFD 1.2 has it."""
    driver.print_receipt(replace(SALE, cashier=None), idempotency_key="bare")
    driver.print_correction(
        Correction(replace(SALE, taxation=1), "self", date(2026, 11, 1)), idempotency_key="correction"
    )
    driver.close_shift(idempotency_key="z", cashier=Cashier("Петрова П.П.", "500100732259"))
    driver.open_shift(idempotency_key="open")
    bare, correction = tags_of(mock_atol_server, "bare"), tags_of(mock_atol_server, "correction")
    assert (bare["1021"], bare["1055"]) == (DEFAULT_CASHIER_NAME, 1)
    assert (correction["1021"], correction["1055"]) == ("Иванов И.И.", 1)
    closing, opening = tags_of(mock_atol_server, "z"), tags_of(mock_atol_server, "open")
    assert (closing["1000"], closing["1021"], closing["1203"]) == (5, "Петрова П.П.", "500100732259")
    assert (opening["1000"], opening["1021"]) == (2, DEFAULT_CASHIER_NAME)


def test_the_x_report_through_atol_has_the_devices_totals(mock_atol_server: MockAtolServer, driver: AtolDriver) -> None:
    """After a sale and a refund, the X report printed through ATOL gives the emulated KKT's own counters."""
    driver.print_receipt(SALE, idempotency_key="sale")
    driver.print_receipt(REFUND, idempotency_key="refund")
    report = driver.print_x_report()
    device = mock_atol_server.kkt.x_report()
    assert report.totals_by_operation == {"sale": 30_050, "refund": 30_050, "expense": 0, "expense_refund": 0}
    assert report.counts_by_operation == {"sale": 1, "refund": 1, "expense": 0, "expense_refund": 0}
    assert report.totals_by_payment["cash"] == device.totals_by_payment["cash"]
    assert (report.open, report.receipts, report.shift_number) == (True, 2, device.shift_number)


def test_the_emulated_driver_refuses_as_the_atol_driver_does(tmp_path: Path) -> None:
    """Every driver applies the same rule: the emulated KKT registered with two systems and a sale naming none is
    ``FieldRequired`` on ``taxation`` with the registered choices, and nothing is printed."""
    EmulatedKKT(tmp_path / "kkt", taxation=TWO_SYSTEMS).close()
    driver = EmulatedDriver(tmp_path / "kkt", print_delay_ms=None, clock=SystemClock())
    try:
        with pytest.raises(FieldRequired) as refused:
            driver.print_receipt(replace(SALE, taxation=None), idempotency_key="k")
        assert refused.value.allowed == ("osn", "usn_income")
        assert driver.find_by_key("k") is None
        assert driver.print_receipt(replace(SALE, taxation=2), idempotency_key="k2").document["1055"] == 2
    finally:
        driver.close()


def test_the_adapter_answers_422_naming_taxation_for_a_kkt_with_several(tmp_path: Path) -> None:
    """``KKT_DRIVER_TYPE=atol`` in its own process, the emulated KKT registered with OSN and USN income: a sale
    without ``taxation`` is 422 ``taxation_required`` naming the field and the choices, nothing printed; with it the
    sale prints; a Z report with a cashier body carries that cashier; the X report carries the device's totals."""
    kkt = EmulatedKKT(tmp_path / "kkt", taxation=TWO_SYSTEMS)
    with MockAtolServer(port=0, kkt=kkt) as atol:
        env = {"KKT_DRIVER_TYPE": "atol", "KKT_ATOL_URL": atol.url, "KKT_SYNC_ENABLED": "false"}
        sale = bodies.sale("100.50", pos_id="POS-1")
        with (
            AdapterProcess(tmp_path / "data", env=env) as adapter,
            httpx.Client(base_url=adapter.url, timeout=30) as http,
        ):
            refused = http.post("/v1/kkt/receipt", json=sale, headers={"Idempotency-Key": "till-1:1"})
            assert refused.status_code == 422, refused.text
            body = refused.json()
            assert (body["error"], body["field"], body["allowed"]) == (
                "taxation_required",
                "taxation",
                ["osn", "usn_income"],
            )
            assert kkt.find_by_key(job_uuid("till-1:1", 0)) is None
            printed = http.post(
                "/v1/kkt/receipt", json=sale | {"taxation": "usn_income"}, headers={"Idempotency-Key": "till-1:2"}
            )
            assert printed.status_code == 200, printed.text
            x = http.post("/v1/kkt/x_report")
            assert x.status_code == 200, x.text
            assert x.json()["totals"]["by_operation"]["sale"] == "100.50"
            z = http.post("/v1/kkt/z_report", json={"cashier": {"name": "Петрова П.П."}})
            assert z.status_code == 200, z.text
            closing = kkt.find_by_number(z.json()["fiscal_doc_number"])
            assert closing is not None and closing.tags["1021"] == "Петрова П.П."
    kkt.close()
