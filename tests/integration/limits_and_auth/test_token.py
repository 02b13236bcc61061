"""The bearer token: every endpoint but health and the page needs it, it is never logged, and the adapter refuses
to listen beyond loopback without one unless told to."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.config import ConfigError, load_settings
from kkt_adapter.server import warn_if_unauthenticated
from kkt_adapter.testing import AdapterProcess, FakeDriver

from .support import SALE, TOKEN, make_client

# --- the bearer token ----------------------------------------------------------------------------------------------


@pytest.fixture
def token_client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    with make_client(tmp_path, driver, api_token=TOKEN) as c:
        yield c


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN]
)
def test_without_the_token_every_endpoint_is_401(
    token_client: TestClient, driver: FakeDriver, authorization: str | None
) -> None:
    """A missing or wrong token is answered 401 with ``WWW-Authenticate: Bearer``, before the route runs."""
    headers = {"Idempotency-Key": "k1"} | ({} if authorization is None else {"Authorization": authorization})
    for response in (
        token_client.post("/v1/kkt/receipt", json=SALE, headers=headers),
        token_client.get("/v1/kkt/buffer/status", headers=headers),
        token_client.get("/metrics", headers=headers),
        token_client.post("/v1/kkt/x_report", headers=headers),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthorized"
        assert TOKEN not in response.text
    assert driver.printed == []


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_token_opens_the_api(token_client: TestClient, scheme: str) -> None:
    """With ``Authorization: Bearer <token>`` (any case of the scheme) the API answers as usual."""
    headers = {"Authorization": f"{scheme} {TOKEN}", "Idempotency-Key": "k1"}
    assert token_client.post("/v1/kkt/receipt", json=SALE, headers=headers).status_code == 200
    assert token_client.get("/v1/kkt/buffer/status", headers=headers).status_code == 200


def test_health_and_the_operator_page_need_no_token(token_client: TestClient) -> None:
    """GET /v1/health answers without the token (probes), and so do the operator page's static files."""
    assert token_client.get("/v1/health").status_code == 200
    assert token_client.get("/ui").status_code == 200
    assert token_client.post("/v1/health").status_code == 401


def test_the_token_is_never_logged(token_client: TestClient, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """Neither a right nor a wrong token appears in any log record, nor in the settings' repr."""
    with caplog.at_level(logging.DEBUG):
        token_client.get("/v1/kkt/buffer/status", headers={"Authorization": f"Bearer {TOKEN}"})
        token_client.get("/v1/kkt/buffer/status", headers={"Authorization": "Bearer guessed-token"})
    assert TOKEN not in caplog.text
    assert "guessed-token" not in caplog.text
    settings = load_settings({"KKT_API_TOKEN": TOKEN, "KKT_DATA_DIR": str(tmp_path)})
    assert TOKEN not in repr(settings)


def test_a_token_with_spaces_stops_the_start_without_echoing_it() -> None:
    """KKT_API_TOKEN must fit an Authorization header; the refusal does not show the value."""
    with pytest.raises(ConfigError, match="KKT_API_TOKEN") as caught:
        load_settings({"KKT_API_TOKEN": "my secret token"})
    assert "my secret" not in str(caught.value)


# --- refusing to start exposed without a token -----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "till-7.lan"])
def test_a_non_loopback_host_without_a_token_stops_the_start(host: str) -> None:
    """Listening beyond loopback needs KKT_API_TOKEN or KKT_ALLOW_UNAUTHENTICATED=true."""
    with pytest.raises(ConfigError, match="KKT_API_TOKEN"):
        load_settings({"KKT_API_HOST": host})
    assert load_settings({"KKT_API_HOST": host, "KKT_API_TOKEN": TOKEN}).api_token is not None
    assert load_settings({"KKT_API_HOST": host, "KKT_ALLOW_UNAUTHENTICATED": "true"}).allow_unauthenticated


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_a_loopback_host_needs_no_token(host: str) -> None:
    """The loopback default (and any loopback address) starts without a token."""
    assert load_settings({"KKT_API_HOST": host}).api_host_is_loopback


@pytest.mark.slow
def test_serve_on_all_interfaces_without_a_token_exits_2(tmp_path: Path) -> None:
    """``kkt-adapter serve`` with KKT_API_HOST=0.0.0.0 and no token exits 2 naming the fix, before binding."""
    env = AdapterProcess(tmp_path, env={"KKT_API_HOST": "0.0.0.0"}).environment()
    result = subprocess.run(
        [sys.executable, "-m", "kkt_adapter", "serve"], env=env, cwd=tmp_path, capture_output=True, timeout=60
    )
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "KKT_API_TOKEN" in stderr and "KKT_ALLOW_UNAUTHENTICATED" in stderr
    assert "Uvicorn running" not in stderr


def test_allowing_unauthenticated_access_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """KKT_ALLOW_UNAUTHENTICATED=true without a token logs a warning at start; with a token there is none."""
    with caplog.at_level(logging.WARNING):
        warn_if_unauthenticated(load_settings({"KKT_API_HOST": "0.0.0.0", "KKT_ALLOW_UNAUTHENTICATED": "true"}))
    assert "KKT_ALLOW_UNAUTHENTICATED=true" in caplog.text
    assert "other machines" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        warn_if_unauthenticated(load_settings({"KKT_API_TOKEN": TOKEN, "KKT_ALLOW_UNAUTHENTICATED": "true"}))
    assert caplog.text == ""


@pytest.mark.slow
def test_a_real_adapter_logs_the_unauthenticated_warning(tmp_path: Path) -> None:
    """A real ``serve`` on loopback with KKT_ALLOW_UNAUTHENTICATED=true starts and says so in its log."""
    with AdapterProcess(tmp_path, env={"KKT_ALLOW_UNAUTHENTICATED": "true"}) as adapter:
        pass
    assert "KKT_ALLOW_UNAUTHENTICATED=true" in adapter.log_path.read_text()
