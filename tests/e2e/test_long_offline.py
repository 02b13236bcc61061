"""The field's 8-hour offline proof, ten times its size: 500 sales during an 8-hour OFD outage, then recovery."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from e2e.support import FAST, Spawn, buffer_status, post_receipt, run_threads, sale, wait_for
from kkt_clock import ManualClock
from kkt_emulators.ofd import MockOFDServer

RECEIPTS = 500
OUTAGE_S = 8 * 3600


@pytest.fixture
def ofd_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ofd_on_test_time(ofd_clock: ManualClock) -> Iterator[MockOFDServer]:
    """A mock OFD whose fault program runs on a manual clock, so that an 8-hour outage passes on command."""
    with MockOFDServer(port=0, clock=ofd_clock) as server:
        yield server


def test_eight_hours_offline_then_everything_syncs_once(
    spawn: Spawn, ofd_on_test_time: MockOFDServer, ofd_clock: ManualClock, record_property: pytest.RecordProperty
) -> None:
    """Scenario 10 — 8 hours offline: the OFD is down for 8 hours of its clock while 500 receipts are sold; when
    the 8 hours have passed it is back by itself, and all 500 sync with 0 duplicates and 0 in the DLQ; the real
    seconds the sync took are reported (the field's budget was 600 s)."""
    ofd = ofd_on_test_time
    ofd.set_down_for(OUTAGE_S)
    adapter = spawn(FAST | {"KKT_OFD_API_URL": ofd.url, "KKT_BUFFER_MAX_SIZE": "1000"})

    def till(n: int) -> None:
        with httpx.Client(timeout=10) as http:
            for i in range(n, RECEIPTS, 4):
                response = post_receipt(adapter.url, sale(i), f"sale-{i}", http=http)
                assert response.status_code == 200, response.text

    run_threads(till, 4)
    # The breaker is open but for its brief probes (half-open: "degraded"): poll until a sample lands between them.
    offline = wait_for(
        lambda: (s := buffer_status(adapter.url))["network_status"] == "offline" and s, what="network offline"
    )
    assert (offline["current_queued"], offline["synced"]) == (RECEIPTS, 0)
    assert ofd.get_stats()["unique_documents"] == 0

    ofd_clock.advance(OUTAGE_S)  # the outage's 8 hours are over: the OFD answers again
    started = time.monotonic()
    wait_for(lambda: buffer_status(adapter.url)["synced"] == RECEIPTS, timeout=60, what=f"{RECEIPTS} synced")
    seconds = time.monotonic() - started
    print(f"\n{RECEIPTS} receipts synced {seconds:.2f} s (real) after an 8-hour outage")
    record_property("sync_seconds", round(seconds, 2))

    status = buffer_status(adapter.url)
    stats = ofd.get_stats()
    (fn,) = stats["fn"].values()
    assert (status["pending"], status["dlq_size"], status["network_status"]) == (0, 0, "online")
    assert (stats["unique_documents"], stats["duplicates"], stats["conflicts"]) == (RECEIPTS, 0, 0)
    assert (fn["documents"], fn["gaps"]) == (RECEIPTS, [])
