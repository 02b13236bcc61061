"""The ATOL emulator asks of a task what the public JSON schema of ATOL's tasks requires
(``pbardov/node-atol-rpc``, ``fptr10.json-tasks.request.schema.json``): ``operator`` on ``openShift`` and
``closeShift``, ``taxationType`` and ``operator`` on every receipt and correction. A task without one is refused with
the driver's error 8 ("Не найден обязательный параметр") naming the field, and prints nothing. It also answers the
two queries the schema describes for the driver's reports: ``getRegistrationInfo`` and ``getShiftTotals``."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from atol_helpers import error, fn_number_now, result, sell, shift

from kkt_emulators import MockAtolServer
from kkt_emulators.device import EmulatedKKT


@pytest.fixture
def atol() -> Iterator[tuple[httpx.Client, str]]:
    with MockAtolServer(port=0) as server, httpx.Client(timeout=5.0) as http:
        yield http, server.url


def _without(task: dict[str, object], name: str) -> dict[str, object]:
    return {key: value for key, value in task.items() if key != name}


CORRECTION = {"correctionType": "self", "correctionBaseDate": "2026.11.01"}


@pytest.mark.parametrize(
    ("task", "field"),
    [
        (_without(shift("openShift"), "operator"), "operator"),
        (_without(sell(), "taxationType"), "taxationType"),
        (_without(sell(), "operator"), "operator"),
        (_without(sell("sellReturn"), "taxationType"), "taxationType"),
        (_without(sell("sellCorrection", **CORRECTION), "taxationType"), "taxationType"),
        (_without(sell("sellReturnCorrection", **CORRECTION), "operator"), "operator"),
    ],
    ids=[
        "openShift/operator",
        "sell/taxationType",
        "sell/operator",
        "sellReturn/taxationType",
        "sellCorrection/taxationType",
        "sellReturnCorrection/operator",
    ],
)
def test_a_task_without_what_the_schema_requires_is_error_8(
    atol: tuple[httpx.Client, str], task: dict[str, object], field: str
) -> None:
    """Error 8 naming the missing field; the FN's document counter does not move."""
    http, url = atol
    before = fn_number_now(http, url)
    code, text = error(http, url, task)
    assert code == 8 and field in text
    assert fn_number_now(http, url) == before


def test_close_shift_without_an_operator_is_error_8(atol: tuple[httpx.Client, str]) -> None:
    """``closeShift`` needs its operator too, even with a shift open."""
    http, url = atol
    result(http, url, shift())
    code, text = error(http, url, {"type": "closeShift"})
    assert code == 8 and "operator" in text


def test_registration_info_lists_the_registered_taxation_systems(tmp_path: Path) -> None:
    """``organization.taxationTypes`` names every system of the registration's 1055 bitmask, by ATOL's names."""
    kkt = EmulatedKKT(tmp_path / "kkt", taxation=1 | 2 | 32)
    with MockAtolServer(port=0, kkt=kkt) as server, httpx.Client(timeout=5.0) as http:
        info = result(http, server.url, {"type": "getRegistrationInfo"})
    kkt.close()
    assert info["organization"]["taxationTypes"] == ["osn", "usnIncome", "patent"]
    assert info["device"]["registrationNumber"] == kkt.registration.reg_number
    assert set(info) == {"organization", "device", "ofd"}


def test_shift_totals_count_the_shifts_receipts(atol: tuple[httpx.Client, str]) -> None:
    """``getShiftTotals``: each operation's count, sum and money by payment type; income, outcome, the drawer."""
    http, url = atol
    result(http, url, sell())
    result(http, url, sell())
    result(http, url, sell("sellReturn"))
    totals = result(http, url, {"type": "getShiftTotals"})["shiftTotals"]
    sold, returned = totals["receipts"]["sell"], totals["receipts"]["sellReturn"]
    assert (sold["count"], Decimal(str(sold["sum"])), Decimal(str(sold["payments"]["cash"]))) == (
        2,
        Decimal("400.00"),
        Decimal("400.00"),
    )
    assert (returned["count"], Decimal(str(returned["sum"]))) == (1, Decimal("200.00"))
    assert (totals["income"]["count"], totals["outcome"]["count"]) == (2, 1)
    assert Decimal(str(totals["cashDrawer"]["sum"])) == Decimal("200.00")
