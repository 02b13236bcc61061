"""pytest plugin (entry point ``pytest11``): fixtures that run the emulators for a test.

``mock_ofd_server``, ``mock_odoo_server`` and ``mock_atol_server`` each start a fresh server on a free loopback
port (``.url`` tells where), and stop it after the test. The servers are imported inside the fixtures, so that
loading the plugin costs nothing to test runs that never use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kkt_emulators.atol import MockAtolServer
    from kkt_emulators.odoo import MockOdooServer
    from kkt_emulators.ofd import MockOFDServer


@pytest.fixture
def mock_ofd_server() -> Iterator[MockOFDServer]:
    """A started mock OFD on a free port, with fresh state; stopped after the test."""
    from kkt_emulators.ofd import MockOFDServer

    with MockOFDServer(port=0) as server:
        yield server


@pytest.fixture
def mock_odoo_server() -> Iterator[MockOdooServer]:
    """A started mock ERP (Odoo) heartbeat endpoint on a free port, with fresh state; stopped after the test."""
    from kkt_emulators.odoo import MockOdooServer

    with MockOdooServer(port=0) as server:
        yield server


@pytest.fixture
def mock_atol_server() -> Iterator[MockAtolServer]:
    """A started ATOL Web Requests emulator on a free port, over a fresh emulated KKT (temporary directory, no print
    delay, no auth, no OFD link); stopped after the test, its device removed."""
    from kkt_emulators.atol import MockAtolServer

    with MockAtolServer(port=0) as server:
        yield server
