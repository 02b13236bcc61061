"""The OFD client's imports resolve: no request pays for a failed optional import (httpcore looks for sniffio)."""

from __future__ import annotations

import builtins
from importlib import metadata
from typing import Any

import pytest

from kkt_adapter.delivery.ofd_client import Accepted, OFDClient
from kkt_emulators.ofd import MockOFDServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_sending_over_a_real_connection_fails_no_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three sends through the real transport to a loopback mock OFD attempt no import that fails."""
    failed: list[str] = []
    real_import = builtins.__import__

    def recording_import(name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return real_import(name, *args, **kwargs)
        except ImportError:
            failed.append(name)
            raise

    with MockOFDServer(port=0) as ofd:
        client = OFDClient(ofd.url)
        try:
            monkeypatch.setattr(builtins, "__import__", recording_import)
            outcomes = [
                await client.send(
                    receipt_id=f"r-{n}",
                    pos_id="POS-1",
                    document={"1040": n, "1041": "9999078900001234", "1020": 100, "1077": n},
                    key=f"r-{n}",
                )
                for n in range(1, 4)
            ]
        finally:
            monkeypatch.setattr(builtins, "__import__", real_import)
            await client.aclose()
    assert all(isinstance(outcome, Accepted) for outcome in outcomes), outcomes
    assert failed == []


def test_sniffio_is_a_declared_dependency() -> None:
    """httpcore imports sniffio on every request when it is there: it is one of the adapter's own dependencies."""
    required = [line.split(";")[0].strip() for line in metadata.requires("kkt-adapter") or [] if "extra ==" not in line]
    assert any(line.startswith("sniffio") for line in required)
    assert metadata.version("sniffio")
