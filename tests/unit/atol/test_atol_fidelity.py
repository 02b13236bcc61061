"""What the ATOL driver adds to every fiscal task, against the scripted fake of Web Requests: ``operator`` on each
(the request's cashier, else the configured one), ``taxationType`` on each receipt and correction (the request's,
else ``KKT_TAXATION``, else the KKT's only registered system, read once), the refusal naming ``taxation`` when the
KKT has several; and the X report with the device's own counters (``getShiftTotals``).

The public JSON schema of ATOL's tasks (``fptr10.json-tasks.request.schema.json``) requires ``operator`` on
``openShift``/``closeShift`` and ``taxationType`` and ``operator`` on every receipt and correction."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from kkt_adapter.devices.atol import AtolDriver, WebRequestsTransport
from kkt_adapter.devices.protocol import PrintJob
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import FieldRequired, ShiftConflict
from kkt_adapter.domain.fiscal_defaults import DEFAULT_CASHIER_NAME, DEFAULTS, FiscalDefaults
from kkt_adapter.domain.receipt import Cashier
from kkt_clock import ManualClock

from .fake_server import FakeWebRequests
from .test_atol_driver import SALE

#: A sale that names neither its cashier nor its taxation system.
BARE = replace(SALE, cashier=None, taxation=None)
PRINTING = {"sell", "sellReturn", "sellCorrection", "sellReturnCorrection", "openShift", "closeShift"}


def driver_for(server: FakeWebRequests, defaults: FiscalDefaults = DEFAULTS) -> AtolDriver:
    transport = WebRequestsTransport("http://kkt.test:16732", dialect="v2", transport=server.transport())
    return AtolDriver(transport, clock=ManualClock(), sleep=lambda _: None, job_timeout=5.0, defaults=defaults)


def sent(server: FakeWebRequests) -> list[dict[str, Any]]:
    """Every task the fake received, in order."""
    return [task for job in server.jobs.values() for task in job.tasks]


def printed(server: FakeWebRequests) -> list[dict[str, Any]]:
    return [task for task in sent(server) if task["type"] in PRINTING]


def test_every_fiscal_task_carries_an_operator() -> None:
    """Sale, refund, correction, Z report and shift opening each carry ``operator``; with nothing named, the
    configured default cashier (``Кассир`` unless set)."""
    server = FakeWebRequests()
    driver = driver_for(server)
    driver.print_receipt(BARE, idempotency_key="sale")
    driver.print_receipt(replace(BARE, operation="refund"), idempotency_key="refund")
    driver.print_correction(Correction(BARE, "self", date(2026, 11, 1)), idempotency_key="corr")
    driver.close_shift(idempotency_key="z")
    driver.open_shift(idempotency_key="open")
    tasks = printed(server)
    assert [task["type"] for task in tasks] == ["sell", "sellReturn", "sellCorrection", "closeShift", "openShift"]
    assert all(task["operator"] == {"name": DEFAULT_CASHIER_NAME} for task in tasks)


def test_the_requests_cashier_wins_over_the_configured_one() -> None:
    """A receipt's cashier and a shift's cashier are sent as they are; the configured one (with its INN) fills in
    only what the request leaves out."""
    server = FakeWebRequests()
    driver = driver_for(server, FiscalDefaults(cashier=Cashier("Петрова П.П.", "500100732259")))
    driver.print_receipt(SALE, idempotency_key="named")
    driver.print_receipt(BARE, idempotency_key="bare")
    driver.close_shift(idempotency_key="z", cashier=Cashier("Сидоров С.С."))
    driver.open_shift(idempotency_key="open")
    operators = [task["operator"] for task in printed(server)]
    assert operators == [
        {"name": "Иванов И.И."},
        {"name": "Петрова П.П.", "vatin": "500100732259"},
        {"name": "Сидоров С.С."},
        {"name": "Петрова П.П.", "vatin": "500100732259"},
    ]


def test_no_configured_cashier_sends_no_operator() -> None:
    """``KKT_CASHIER_NAME`` blank: a task without a cashier goes without ``operator`` (the KKT's own cashier)."""
    server = FakeWebRequests()
    driver = driver_for(server, FiscalDefaults(cashier=None))
    driver.close_shift(idempotency_key="z")
    assert "operator" not in printed(server)[0]


@pytest.mark.parametrize(
    ("request_taxation", "configured", "registered", "expected"),
    [
        (2, None, ["osn", "usnIncome"], "usnIncome"),
        (None, 32, ["osn", "usnIncome"], "patent"),
        (None, None, ["usnIncomeOutcome"], "usnIncomeOutcome"),
        (1, 4, ["patent"], "osn"),
    ],
    ids=["the request's", "KKT_TAXATION", "the only registered", "the request's over KKT_TAXATION"],
)
def test_taxation_type_comes_from_the_first_source_that_names_one(
    request_taxation: int | None, configured: int | None, registered: list[str], expected: str
) -> None:
    """``taxationType``: the request's ``taxation``, else ``KKT_TAXATION``, else the KKT's one registered system."""
    server = FakeWebRequests(taxation_types=registered)
    driver = driver_for(server, FiscalDefaults(taxation=configured))
    driver.print_receipt(replace(BARE, taxation=request_taxation), idempotency_key="k")
    driver.print_correction(
        Correction(replace(BARE, taxation=request_taxation), "self", date(2026, 11, 1)), idempotency_key="c"
    )
    assert [task["taxationType"] for task in printed(server)] == [expected, expected]


def test_the_registration_is_read_once_and_only_when_needed() -> None:
    """``getRegistrationInfo`` is asked at the first receipt that needs it, then remembered."""
    server = FakeWebRequests()
    driver = driver_for(server)
    driver.print_receipt(SALE, idempotency_key="named")
    for key in ("a", "b", "c"):
        driver.print_receipt(BARE, idempotency_key=key)
    asked = [task for task in sent(server) if task["type"] == "getRegistrationInfo"]
    assert len(asked) == 1


@pytest.mark.parametrize(("registered", "allowed"), [(["osn", "usnIncome"], ("osn", "usn_income")), ([], None)])
def test_several_or_no_registered_systems_refuse_a_receipt_naming_none(
    registered: list[str], allowed: tuple[str, ...] | None
) -> None:
    """A KKT registered with several systems (or none the driver knows) and nothing named: ``FieldRequired`` on
    ``taxation`` with the registered choices (all the API's names when none), and nothing is sent to print."""
    server = FakeWebRequests(taxation_types=registered)
    driver = driver_for(server)
    with pytest.raises(FieldRequired) as refused:
        driver.print_receipt(BARE, idempotency_key="k")
    assert (refused.value.code, refused.value.field) == ("taxation_required", "taxation")
    assert refused.value.allowed == (allowed or ("osn", "usn_income", "usn_income_expense", "esn", "patent"))
    assert printed(server) == []


def test_a_batch_refuses_only_the_job_without_a_taxation_system() -> None:
    """In a batch, the sale naming no system on a KKT with several is refused alone; the others print."""
    server = FakeWebRequests(taxation_types=["osn", "patent"])
    driver = driver_for(server)
    jobs = [PrintJob(SALE, "a"), PrintJob(BARE, "b"), PrintJob(replace(BARE, taxation=32), "c")]
    outcomes = driver.print_batch(jobs)
    assert isinstance(outcomes[1], FieldRequired)
    assert [task["taxationType"] for task in printed(server)] == ["osn", "patent"]


def test_the_x_report_prints_and_returns_the_devices_totals() -> None:
    """``reportX`` is printed, then ``getShiftTotals`` gives the shift's sums and counts by operation and money by
    payment; with no open shift it is a ``ShiftConflict`` and nothing is printed."""
    server = FakeWebRequests()
    driver = driver_for(server)
    driver.print_receipt(SALE, idempotency_key="k")
    report = driver.print_x_report()
    assert [task["type"] for task in sent(server)].count("reportX") == 1
    assert (report.open, report.receipts) == (True, 1)
    assert report.totals_by_operation == {"sale": 30_050}
    assert report.counts_by_operation == {"sale": 1}
    assert report.totals_by_payment["cash"] == 30_050
    server.shift_open = False
    with pytest.raises(ShiftConflict):
        driver.print_x_report()
    assert [task["type"] for task in sent(server)].count("reportX") == 1
