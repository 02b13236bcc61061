"""The Host check and CORS: a foreign Host header is refused, origins are granted only when configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.testing import FakeDriver

from .support import TOKEN, make_client

# --- the Host check -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil"])
def test_a_foreign_host_header_is_400(client: TestClient, host: str) -> None:
    """A request naming another site (a DNS rebinding page) is refused before the route runs."""
    response = client.get("/v1/kkt/buffer/status", headers={"Host": host})
    assert response.status_code == 400
    assert response.json()["error"] == "host_not_allowed"


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "192.168.1.10:8000", "testserver"]
)
def test_the_default_allows_loopback_names_and_addresses(client: TestClient, host: str) -> None:
    """By default ``localhost``, any IP address and the server's own name (``testserver`` in process) pass."""
    assert client.get("/v1/kkt/buffer/status", headers={"Host": host}).status_code == 200


def test_an_explicit_host_list_is_used_as_given(tmp_path: Path, driver: FakeDriver) -> None:
    """KKT_ALLOWED_HOSTS replaces the default: listed names and ``*.`` subdomains pass, the rest (even an IP) not."""
    with make_client(tmp_path, driver, base_url="http://till-7.lan", allowed_hosts="till-7.lan, *.shop.ru") as client:
        assert client.get("/v1/health").status_code == 200
        assert client.get("/v1/health", headers={"Host": "TILL-7.lan:8000"}).status_code == 200
        assert client.get("/v1/health", headers={"Host": "pos.shop.ru"}).status_code == 200
        assert client.get("/v1/health", headers={"Host": "testserver"}).status_code == 400
        assert client.get("/v1/health", headers={"Host": "127.0.0.1"}).status_code == 400
        assert client.get("/v1/health", headers={"Host": "shop.ru.evil"}).status_code == 400


# --- CORS ----------------------------------------------------------------------------------------------------------


def test_no_cors_headers_by_default(client: TestClient) -> None:
    """Without KKT_CORS_ORIGINS no answer carries Access-Control-* headers, and a preflight is not granted."""
    response = client.get("/v1/health", headers={"Origin": "http://erp.local"})
    assert not any(name.lower().startswith("access-control-") for name in response.headers)
    preflight = client.options(
        "/v1/kkt/receipt", headers={"Origin": "http://erp.local", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_origins_are_granted_when_configured(tmp_path: Path, driver: FakeDriver) -> None:
    """With KKT_CORS_ORIGINS a listed origin gets the CORS headers, even on the preflight of a token-protected API;
    another origin does not."""
    with make_client(tmp_path, driver, cors_origins="http://erp.local", api_token=TOKEN) as client:
        preflight = client.options(
            "/v1/kkt/receipt",
            headers={
                "Origin": "http://erp.local",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, idempotency-key, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://erp.local"
        denied = client.get("/v1/kkt/buffer/status", headers={"Origin": "http://erp.local"})
        assert denied.status_code == 401
        assert denied.headers["access-control-allow-origin"] == "http://erp.local"
        other = client.get("/v1/health", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
