"""The admin routes both mocks share (reset, stats, the journal of received bodies) behave the same on each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kkt_emulators.odoo import MockOdooServer
from kkt_emulators.ofd import MockOFDServer


@dataclass(frozen=True)
class Mock:
    """A started mock server and where its endpoint and admin routes are."""

    server: MockOFDServer | MockOdooServer
    endpoint: str
    admin: str
    journal: str


@pytest.fixture(params=["ofd", "odoo"])
def mock(request: pytest.FixtureRequest) -> Iterator[Mock]:
    """Each mock in turn, started on a free port, with its endpoint and admin paths."""
    if request.param == "ofd":
        with MockOFDServer(port=0) as ofd:
            yield Mock(ofd, f"{ofd.url}/ofd/v1/receipt", f"{ofd.url}/ofd/v1/_test", "receipts")
    else:
        with MockOdooServer(port=0) as odoo:
            yield Mock(odoo, f"{odoo.url}/api/v1/kkt/heartbeat", f"{odoo.url}/_test", "heartbeats")


def _post(client: httpx.Client, mock: Mock, body: dict[str, Any]) -> int:
    return client.post(mock.endpoint, json=body).status_code


def test_journal_lists_bodies_oldest_first_and_the_last_limit(mock: Mock, client: httpx.Client) -> None:
    """``GET <admin>/<journal>`` lists the processed bodies oldest first; ``?limit=N`` the last N of them."""
    assert [_post(client, mock, {"n": n}) for n in range(3)] == [200, 200, 200]
    assert client.get(f"{mock.admin}/{mock.journal}").json() == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert client.get(f"{mock.admin}/{mock.journal}", params={"limit": 2}).json() == [{"n": 1}, {"n": 2}]


def test_stats_is_the_servers_get_stats(mock: Mock, client: httpx.Client) -> None:
    """``GET <admin>/stats`` answers what ``get_stats()`` returns, calls and journal included."""
    mock.server.set_failure_count(1)
    assert [_post(client, mock, {"n": n}) for n in range(2)] == [503, 200]
    stats = client.get(f"{mock.admin}/stats").json()
    assert stats == mock.server.get_stats()
    assert (stats["calls"], stats["faulted"], stats["journal"]["kept"]) == (2, 1, 1)


def test_reset_forgets_everything_and_disarms_faults(mock: Mock, client: httpx.Client) -> None:
    """``POST <admin>/reset`` forgets bodies and counters and disarms every fault, as ``reset()`` does."""
    _post(client, mock, {"n": 0})
    mock.server.set_permanent_failure()
    assert client.post(f"{mock.admin}/reset").json() == {"status": "ok"}
    assert mock.server.get_call_count() == 0
    assert client.get(f"{mock.admin}/{mock.journal}").json() == []
    assert mock.server.get_faults() == type(mock.server)(port=0).get_faults()
    assert _post(client, mock, {"n": 1}) == 200
