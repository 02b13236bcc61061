"""Helpers for the ATOL emulator's tests: raw JSON tasks as a third-party client writes them, and job polling.

Nothing here knows the emulator's code: the tests speak HTTP and JSON to it, with the tasks of the protocol notes.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from decimal import Decimal
from typing import Any

import httpx

from kkt_adapter.testing import wait_for

CASHIER_INN = "500100732259"
FINAL = {"ready", "error", "interrupted", "canceled"}


def to_json(value: Any) -> bytes:
    """JSON with every Decimal written as the bare number it is (``Decimal("200.10")`` → ``200.10``), as ATOL's
    clients send rubles; no binary float is involved."""

    def mark(item: Any) -> Any:
        if isinstance(item, Decimal):
            return f"\x00dec:{item}"
        if isinstance(item, dict):
            return {key: mark(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [mark(inner) for inner in item]
        return item

    text = json.dumps(mark(value), ensure_ascii=False)
    return re.sub(r'"\\u0000dec:([-0-9.]+)"', r"\1", text).encode()


def position(
    name: str = "Оправа",
    price: Any = Decimal("100.00"),
    quantity: Any = 2,
    amount: Any = Decimal("200.00"),
    **extra: Any,
) -> dict[str, Any]:
    """One receipt line (a ``position`` item) with FFD 1.2 attributes."""
    item = {
        "type": "position",
        "name": name,
        "price": price,
        "quantity": quantity,
        "amount": amount,
        "measurementUnit": "piece",
        "paymentMethod": "fullPayment",
        "paymentObject": "commodity",
        "tax": {"type": "vat20"},
    }
    item.update(extra)
    return item


def shift(kind: str = "openShift", **extra: Any) -> dict[str, Any]:
    """A shift task (``openShift`` by default) with its operator, as the schema of the tasks requires."""
    return {"type": kind, "operator": {"name": "Иванов И.И.", "vatin": CASHIER_INN}} | extra


def sell(kind: str = "sell", *, items: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A receipt task (sell by default) of 200 rubles in cash, with operator and taxation system."""
    lines = items if items is not None else [position()]
    total = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    task: dict[str, Any] = {
        "type": kind,
        "taxationType": "osn",
        "electronically": False,
        "operator": {"name": "Иванов И.И.", "vatin": CASHIER_INN},
        "items": lines,
        "payments": [{"type": "cash", "sum": total}],
        "total": total,
    }
    task.update(extra)
    return task


def new_uuid() -> str:
    """A fresh job uuid."""
    return str(uuid_module.uuid4())


def post(http: httpx.Client, url: str, tasks: Any, uuid: str | None = None, path: str = "/api/v2/requests") -> str:
    """Queue a job (201 expected); its uuid."""
    job = uuid or new_uuid()
    answer = http.post(f"{url}{path}", content=to_json({"uuid": job, "request": tasks}))
    assert answer.status_code == 201, answer.text
    return job


def results(http: httpx.Client, url: str, uuid: str, path: str = "/api/v2/requests") -> list[dict[str, Any]]:
    """The job's results now (200 expected), numbers with a fraction read as Decimal."""
    answer = http.get(f"{url}{path}/{uuid}")
    assert answer.status_code == 200, answer.text
    body = json.loads(answer.content, parse_float=Decimal)
    return list(body["results"])


def settled(http: httpx.Client, url: str, uuid: str, path: str = "/api/v2/requests") -> list[dict[str, Any]]:
    """Poll the job until every task is final; its results."""

    def done() -> list[dict[str, Any]] | None:
        found = results(http, url, uuid, path)
        return found if all(entry["status"] in FINAL for entry in found) else None

    return wait_for(done, timeout=10, what=f"job {uuid} to finish")


def run(http: httpx.Client, url: str, tasks: Any) -> list[dict[str, Any]]:
    """Queue a job and wait for its results."""
    return settled(http, url, post(http, url, tasks))


def result(http: httpx.Client, url: str, task: dict[str, Any]) -> dict[str, Any]:
    """Run one task that must succeed; its ``result``."""
    (entry,) = run(http, url, task)
    assert entry["status"] == "ready", entry
    assert entry["error"]["code"] == 0
    return dict(entry["result"])


def error(http: httpx.Client, url: str, task: dict[str, Any]) -> tuple[int, str]:
    """Run one task that must fail; its error code and description."""
    (entry,) = run(http, url, task)
    assert entry["status"] == "error", entry
    assert "result" not in entry
    return int(entry["error"]["code"]), str(entry["error"]["description"])


def fn_number_now(http: httpx.Client, url: str) -> int:
    """The FN's last document number, by the synchronous status call."""
    answer = http.post(f"{url}/api/v2/operations/queryFnStatus")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["fnStatus"]["fiscalDocumentNumber"])
