"""What the limits and authentication tests share: a sale, a token, an app on a fake driver, raw posts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import FakeClock, FakeDriver, bodies

SALE: dict[str, Any] = bodies.sale()
TOKEN = "till-7-secret-token"
JSON = {"Content-Type": "application/json"}


def make_client(tmp_path: Path, driver: FakeDriver, base_url: str = "http://testserver", **env: str) -> TestClient:
    base = {"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"}
    settings = load_settings(base | {f"KKT_{k.upper()}": v for k, v in env.items()})
    return TestClient(create_app(settings, clock=FakeClock(), driver=driver), base_url=base_url)


def post_raw(client: TestClient, body: bytes, key: str = "k1") -> Any:
    return client.post("/v1/kkt/receipt", content=body, headers=JSON | {"Idempotency-Key": key})


def locs(response: Any) -> list[list[object]]:
    return [problem["loc"] for problem in response.json()["detail"]]
