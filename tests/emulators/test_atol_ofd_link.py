"""The emulated KKT's own OFD link: its documents reach a mock OFD once each, in FD order, acknowledged back into the
FN (unsent count to 0), through OFD outages and lost answers; and the ATOL emulator runs it with ``ofd_url``."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from atol_helpers import result, sell

from kkt_adapter.testing import wait_for
from kkt_emulators import EmulatedKKT, MockAtolServer, MockOFDServer, ReceiptTask, TaskItem
from kkt_emulators.device.ofd_link import OfdLink


@pytest.fixture
def kkt(tmp_path: Path) -> Iterator[EmulatedKKT]:
    """A fresh emulated KKT without print delay."""
    with EmulatedKKT(tmp_path / "kkt", print_delay_ms=0) as device:
        yield device


@pytest.fixture
def ofd(kkt: EmulatedKKT) -> Iterator[MockOFDServer]:
    """A mock OFD that validates documents and verifies this FN's fiscal signs."""
    with MockOFDServer(port=0, validate=True, fn_secrets={kkt.registration.fn_number: kkt.registration.fn_secret}) as s:
        yield s


def print_sales(kkt: EmulatedKKT, count: int) -> None:
    """Print ``count`` more one-item cash sales."""
    item = TaskItem(name="Кофе", price_kop=15000, quantity=Decimal(1), sum_kop=15000, vat_code=1)
    first = kkt.status().last_fd_number
    for index in range(count):
        task = ReceiptTask(operation=1, items=(item,), cash_kop=15000)
        kkt.print_receipt(task, idempotency_key=f"sale-{first}-{index}")


def received_fd_numbers(ofd: MockOFDServer) -> list[int]:
    """The FD numbers of the documents the OFD accepted, in arrival order."""
    return [int(body["fiscal_document"]["1040"]) for body in ofd.get_received_receipts()]


def test_documents_reach_the_ofd_once_each_in_fd_order(kkt: EmulatedKKT, ofd: MockOFDServer) -> None:
    """Registration, shift opening and receipts are sent in FD order, each accepted once (signs valid), and the FN
    has nothing unsent afterwards."""
    print_sales(kkt, 3)
    assert kkt.fn_status().unsent_count == 5
    with OfdLink(kkt, ofd.url, interval_s=0.01) as link:
        wait_for(lambda: kkt.fn_status().unsent_count == 0, what="every document acknowledged")
        print_sales(kkt, 1)  # printed while the link runs: sent on its next pass
        link.wake()
        wait_for(lambda: kkt.fn_status().unsent_count == 0, what="the late document acknowledged")
    assert received_fd_numbers(ofd) == [1, 2, 3, 4, 5, 6]
    stats = ofd.get_stats()
    assert (stats["duplicates"], stats["rejected"]) == (0, 0)
    sequence = stats["fn"][kkt.registration.fn_number]
    assert (sequence["documents"], sequence["out_of_order"], sequence["missing"]) == (6, 0, 0)
    assert kkt.fn_status().first_unsent_fd_number is None and link.stats()["sent"] == 6


def test_an_ofd_outage_is_retried_with_backoff_and_nothing_is_skipped(kkt: EmulatedKKT, ofd: MockOFDServer) -> None:
    """While the OFD answers 503 nothing is acknowledged and the link counts failed passes; once it is back every
    document arrives, in order, once."""
    print_sales(kkt, 2)
    ofd.set_permanent_failure()
    with OfdLink(kkt, ofd.url, interval_s=0.01, max_backoff_s=0.04) as link:
        wait_for(lambda: link.stats()["failed_passes"] >= 3, what="failed passes")
        assert kkt.fn_status().unsent_count == 4 and link.stats()["last_error"]
        ofd.set_permanent_failure(False)
        wait_for(lambda: kkt.fn_status().unsent_count == 0, what="delivery after the outage")
    assert received_fd_numbers(ofd) == [1, 2, 3, 4]


def test_a_lost_ofd_answer_is_resent_and_counted_once(kkt: EmulatedKKT, ofd: MockOFDServer) -> None:
    """The OFD stores a document but its answer is lost: the link resends it, the OFD answers a duplicate, and the
    document is acknowledged and counted once."""
    ofd.set_lose_reply(1)
    with OfdLink(kkt, ofd.url, interval_s=0.01):
        wait_for(lambda: kkt.fn_status().unsent_count == 0, what="the registration report acknowledged")
    assert received_fd_numbers(ofd) == [1]
    assert ofd.get_stats()["duplicates"] == 1


def test_stop_is_prompt_and_idempotent(kkt: EmulatedKKT) -> None:
    """A link towards an OFD that is not there stops at once when asked, twice without harm."""
    link = OfdLink(kkt, "http://127.0.0.1:9", interval_s=0.01, max_backoff_s=0.02).start()
    wait_for(lambda: link.stats()["failed_passes"] >= 1, what="a failed pass")
    link.stop(timeout=5)
    link.stop(timeout=5)
    assert kkt.fn_status().unsent_count == 1


def test_the_atol_emulator_with_ofd_url_shows_the_unsent_count_falling(ofd: MockOFDServer) -> None:
    """``MockAtolServer(ofd_url=...)``: sales raise the unsent count, then ``ofdExchangeStatus`` and the FN status
    show it falling to 0 as the OFD takes the documents, in FD order."""
    ofd.validate = False  # another device's FN: its secret is not registered with this OFD
    ofd.set_permanent_failure()
    with MockAtolServer(port=0, ofd_url=ofd.url, ofd_interval_s=0.01) as server, httpx.Client(timeout=5.0) as http:
        result(http, server.url, sell())
        result(http, server.url, sell())
        status = result(http, server.url, {"type": "ofdExchangeStatus"})["status"]
        assert (status["notSentCount"], status["notSentFirstDocNumber"]) == (4, 1)
        ofd.set_permanent_failure(False)

        def drained() -> bool:
            answer = http.post(f"{server.url}/api/v2/operations/queryOfdExchangeStatus").json()
            return bool(answer["status"]["notSentCount"] == 0)

        wait_for(drained, what="the unsent count to reach 0")
        status = result(http, server.url, {"type": "ofdExchangeStatus"})["status"]
        assert "notSentFirstDocNumber" not in status
        assert server.get_stats()["ofd_link"]["sent"] == 4
    assert received_fd_numbers(ofd) == [1, 2, 3, 4]
