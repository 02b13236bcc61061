"""The cashier (1021, and 1203 with an INN) on the Shtrih-M's shift reports: sent with FF0Ch before E0h and 41h, and
recorded by the emulated FN on the shift opening and closing reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kkt_adapter.devices.shtrih import ShtrihDriver, connect
from kkt_adapter.domain.receipt import Cashier
from kkt_clock import SystemClock
from kkt_emulators.shtrih import MockShtrihServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockShtrihServer]:
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt") as kkt:
        yield kkt


@pytest.fixture
def driver(server: MockShtrihServer, tmp_path: Path) -> Iterator[ShtrihDriver]:
    made = connect(server.url, tmp_path / "state", clock=SystemClock(), protocol="v1", answer_timeout=0.5)
    yield made
    made.close()


def test_the_cashier_goes_on_both_shift_reports(server: MockShtrihServer, driver: ShtrihDriver) -> None:
    """The opening names one cashier with an INN, the Z report another without: each report carries its own."""
    opened = driver.open_shift(idempotency_key="open", cashier=Cashier("Иванова А.", "500100732259"))
    closed, _ = driver.close_shift(idempotency_key="z", cashier=Cashier("Петрова П.П."))
    opening = server.kkt.find_by_number(opened.fiscal_doc_number)
    closing = server.kkt.find_by_number(closed.fiscal_doc_number)
    assert opening is not None and closing is not None
    assert (opening.tags["1021"], opening.tags["1203"]) == ("Иванова А.", "500100732259")
    assert closing.tags["1021"] == "Петрова П.П." and "1203" not in closing.tags


def test_no_cashier_leaves_the_reports_without_one(server: MockShtrihServer, driver: ShtrihDriver) -> None:
    """Without a cashier nothing is sent, and the report names none."""
    opened = driver.open_shift(idempotency_key="open")
    document = server.kkt.find_by_number(opened.fiscal_doc_number)
    assert document is not None and "1021" not in document.tags
