"""Shared setup of the tests with several KKTs behind one adapter: two emulated devices (``main``, the primary, and
``backup``), the settings that name them, and readers of each device's own journal.

Each device's emulated state lives in its own directory; the tests switch faults there with their own
:class:`~kkt_emulators.device.EmulatedKKT` on that directory (a fault is persisted, so the adapter's instance sees
it at its next call) and read each journal the same way.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import bodies
from kkt_emulators.device import DOC_RECEIPT, EmulatedKKT
from ready_device import journal

SALE: dict[str, Any] = bodies.sale()


class ShiftedClock:
    """The machine's clock, moved forward by what a test adds with :meth:`advance`.

    Real time still passes, so that a driver polling with real sleeps (ATOL's) reaches its deadlines, while a test
    passes the adapter's minute-long waits at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def monotonic(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    def time(self) -> float:
        with self._lock:
            return time.time() + self._offset


def state_dir(data_dir: Path, name: str) -> Path:
    """Where the emulated device ``name`` keeps its state in these tests."""
    return data_dir / f"kkt-{name}"


def emulated(data_dir: Path, name: str) -> dict[str, Any]:
    """One ``KKT_DEVICES`` entry: the emulated device ``name``, printing without delay."""
    return {"name": name, "driver": "emulated", "state_dir": str(state_dir(data_dir, name)), "print_delay_ms": 0}


def two_devices_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Settings of an adapter on two emulated devices, ``main`` (the primary) then ``backup``; nothing leaves the
    buffer, and a device that refused is tried first again at the next sale unless ``extra`` says otherwise."""
    devices = [emulated(data_dir, "main"), emulated(data_dir, "backup")]
    return {
        "KKT_DATA_DIR": str(data_dir),
        "KKT_SYNC_ENABLED": "false",
        "KKT_EMULATOR_PRINT_DELAY_MS": "0",
        "KKT_DEVICES": json.dumps(devices),
        "KKT_FAILOVER_RECHECK_S": "0",
    } | extra


def ready(directory: Path, *, taxation: int = 1) -> None:
    """Register the device in ``directory`` (under ``taxation``, the 1055 bitmask) and open its shift."""
    with EmulatedKKT(directory, print_delay_ms=0, taxation=taxation) as kkt:
        if not kkt.status().shift_open:
            kkt.open_shift()


def set_fault(directory: Path, fault: str, enabled: bool = True) -> None:
    """Switch ``fault`` (``paper_out`` or ``offline``) of the emulated device in ``directory``."""
    with EmulatedKKT(directory, print_delay_ms=0, create=False) as kkt:
        kkt.set_fault(fault, enabled)  # type: ignore[arg-type]


def receipts_by_key(directory: Path) -> dict[str, int]:
    """The FD number of each receipt on the device in ``directory``, by the key it was printed with; fails if a key
    was printed twice."""
    documents = [d for d in journal(directory) if d.doc_type == DOC_RECEIPT]
    keys = [d.idempotency_key for d in documents]
    assert len(keys) == len(set(keys)), f"a key was printed twice on {directory.name}: {keys}"
    return {str(d.idempotency_key): d.fd_number for d in documents}


def assert_continuous(directory: Path) -> list[int]:
    """The device's FD numbers are 1, 2, 3, ... without a gap; returns them."""
    numbers = [d.fd_number for d in journal(directory)]
    assert numbers == list(range(1, len(numbers) + 1)), f"FD numbers of {directory.name} not continuous: {numbers}"
    return numbers


def post(
    client: TestClient, key: str, body: dict[str, Any] = SALE, *, device: str | None = None, path: str = "receipt"
) -> Any:
    """POST a receipt (or, with ``path="correction"``, a correction) under ``key``, naming ``device`` if given."""
    payload = body if device is None else body | {"device": device}
    return client.post(f"/v1/kkt/{path}", json=payload, headers={"Idempotency-Key": key})


def events(client: TestClient, receipt_id: str) -> list[dict[str, Any]]:
    """The audit events recorded for one receipt."""
    items: list[dict[str, Any]] = client.get(f"/v1/kkt/receipt/{receipt_id}/events").json()["items"]
    return items


def device_view(client: TestClient, name: str) -> dict[str, Any]:
    """One device as ``GET /v1/kkt/devices`` shows it."""
    body = client.get("/v1/kkt/devices").json()
    found: dict[str, Any] = next(d for d in body["devices"] if d["name"] == name)
    return found


#: ``main`` is registered under OSN and refuses a sale under USN; ``backup``, registered under USN income, prints it
#: (and, like ``main``, a sale that names no taxation system, under its own).
USN_SALE: dict[str, Any] = SALE | {"taxation": "usn_income"}
#: A sale of three, so that it can be refunded one at a time.
SALE_OF_THREE: dict[str, Any] = bodies.sale(300, items=[bodies.item(quantity=3)])
CORRECTION: dict[str, Any] = bodies.correction()


def refund_of(receipt_id: str) -> dict[str, Any]:
    """A refund of one of ``SALE_OF_THREE``'s items, naming the sale."""
    return bodies.refund(receipt_id)


def start(data_dir: Path, **extra: str) -> TestClient:
    return TestClient(create_app(load_settings(two_devices_env(data_dir, **extra))))


def sell(client: TestClient, key: str, body: dict[str, Any] = SALE, *, device: str | None = None) -> dict[str, Any]:
    response = post(client, key, body, device=device)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def fd(answer: dict[str, Any]) -> int:
    return int(answer["fiscal_doc"]["fiscal_doc_number"])


def stored_state(client: TestClient, key: str) -> str | None:
    """The buffer row's state for ``key`` (``None``: nothing stored)."""
    row = client.app.state.adapter.buffer.get_by_key(key)  # type: ignore[attr-defined]
    return None if row is None else str(row.state.value)


def receipt_id_of(client: TestClient, key: str) -> str:
    row = client.app.state.adapter.buffer.get_by_key(key)  # type: ignore[attr-defined]
    assert row is not None, f"no row for {key}"
    return str(row.receipt_id)


def failovers(client: TestClient, receipt_id: str) -> list[str]:
    return [str(e["detail"]) for e in events(client, receipt_id) if e["kind"] == "failover"]
