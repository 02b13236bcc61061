"""The API refuses abuse: body, header and connection limits, JSON-safe 422s, fiscal text rules, the bearer token,
the Host check and CORS; in process through the ASGI app, and on real ``kkt-adapter serve`` processes."""

from __future__ import annotations

import json
import logging
import select
import socket
import subprocess
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.api.middleware import BodyLimit
from kkt_adapter.config import ConfigError, load_settings
from kkt_adapter.server import warn_if_unauthenticated
from kkt_adapter.testing import AdapterProcess, FakeClock, FakeDriver, bodies, wait_for

SALE: dict[str, Any] = bodies.sale()
TOKEN = "till-7-secret-token"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


def make_client(tmp_path: Path, driver: FakeDriver, base_url: str = "http://testserver", **env: str) -> TestClient:
    base = {"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"}
    settings = load_settings(base | {f"KKT_{k.upper()}": v for k, v in env.items()})
    return TestClient(create_app(settings, clock=FakeClock(), driver=driver), base_url=base_url)


@pytest.fixture
def client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    with make_client(tmp_path, driver) as c:
        yield c


def post_raw(client: TestClient, body: bytes, key: str = "k1") -> Any:
    return client.post("/v1/kkt/receipt", content=body, headers=JSON | {"Idempotency-Key": key})


def locs(response: Any) -> list[list[object]]:
    return [problem["loc"] for problem in response.json()["detail"]]


# --- the request body limit ----------------------------------------------------------------------------------------


def test_body_over_the_declared_limit_is_413_json(tmp_path: Path, driver: FakeDriver) -> None:
    """A Content-Length over KKT_MAX_BODY_BYTES is answered 413 with a JSON error, and nothing is printed."""
    with make_client(tmp_path, driver, max_body_bytes="2000") as client:
        body = json.dumps(SALE | {"pos_id": "P" * 10}).encode() + b" " * 2000
        response = post_raw(client, body)
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert "KKT_MAX_BODY_BYTES" in response.json()["detail"]
    assert driver.printed == []


def test_chunked_body_over_the_limit_is_413(tmp_path: Path, driver: FakeDriver) -> None:
    """A body without Content-Length (chunked) is counted as it comes: 413 and ``Connection: close``."""

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    with make_client(tmp_path, driver, max_body_bytes="2000") as client:
        response = client.post("/v1/kkt/receipt", content=chunks(), headers=JSON | {"Idempotency-Key": "k"})
    assert response.status_code == 413
    assert response.headers["connection"] == "close"
    assert driver.printed == []


def test_body_within_the_limit_is_served(tmp_path: Path, driver: FakeDriver) -> None:
    """A sale smaller than the limit prints as usual."""
    with make_client(tmp_path, driver, max_body_bytes="2000") as client:
        response = client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 200


@pytest.mark.anyio
async def test_body_limit_stops_reading_at_the_chunk_past_the_limit() -> None:
    """The middleware alone: it pulls no chunk after the one that passes the limit, answers 413 at once and drops the
    app's own answer to the failed read."""
    pulled: list[int] = []
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        pulled.append(1)
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}  # an endless body

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            while (await receive())["more_body"]:
                pass
        except Exception:
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"parse error"})

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await BodyLimit(app, max_bytes=1000)(scope, receive, send)
    assert len(pulled) == 11  # 1,100 bytes: the eleventh chunk passes 1,000
    assert [message.get("status") for message in sent if message["type"] == "http.response.start"] == [413]
    assert b"parse error" not in b"".join(message.get("body", b"") for message in sent)


def test_headers_over_the_limit_are_431(tmp_path: Path, driver: FakeDriver) -> None:
    """Request headers larger than KKT_MAX_HEADER_BYTES are answered 431 with a JSON error."""
    with make_client(tmp_path, driver, max_header_bytes="4096") as client:
        assert client.get("/v1/health", headers={"X-Padding": "a" * 3000}).status_code == 200
        response = client.get("/v1/health", headers={"X-Padding": "a" * 5000})
    assert response.status_code == 431
    assert response.json()["error"] == "headers_too_large"


# --- 422: JSON-safe, short ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"pos_id": NaN}', ["body", "pos_id"]),
        (b'{"pos_id": Infinity}', ["body", "pos_id"]),
        (b'{"pos_id": -Infinity}', ["body", "pos_id"]),
        (b'{"pos_id": 1e309}', ["body", "pos_id"]),
        (b'{"pos_id": "P", "original_fd_number": NaN}', ["body", "original_fd_number"]),
        (b'{"pos_id": "P", "items": [{"name": "x", "price": NaN, "quantity": 1, "vat_rate": 20}]}', None),
        (b'{"pos_id": "P", "items": [{"name": "x", "price": 1, "quantity": 1e309, "vat_rate": 20}]}', None),
        (b'{"pos_id": "P", "items": [{"name": "x", "price": 1, "quantity": 1, "vat_rate": Infinity}]}', None),
        (b'{"pos_id": "\\ud800"}', ["body", "pos_id"]),
        (b'{"pos_id": "P", "items": [{"name": "a\\udfff", "price": 1, "quantity": 1, "vat_rate": 20}]}', None),
        (b'{"\\ud800": 1}', ["body"]),
    ],
)
def test_non_finite_numbers_and_lone_surrogates_are_422(
    client: TestClient, driver: FakeDriver, body: bytes, field: list[object] | None
) -> None:
    """NaN, ±Infinity, 1e309 and lone UTF-16 surrogates are a 422 naming the field, never a 500."""
    response = post_raw(client, body)
    assert response.status_code == 422, response.text
    json.loads(response.text)  # strict JSON: no NaN, no lone surrogate
    if field is not None:
        assert field in locs(response)
    else:
        assert any(len(loc) == 4 and loc[:2] == ["body", "items"] for loc in locs(response))
    assert driver.printed == []


def test_item_price_nan_names_the_item_field(client: TestClient) -> None:
    """A NaN price is refused as ``items[0].price``, with the input shown as the string "NaN"."""
    body = b'{"pos_id": "P", "type": "sale", "items": [{"name": "x", "price": NaN, "quantity": 1, "vat_rate": 20}]}'
    (problem,) = [p for p in post_raw(client, body).json()["detail"] if p["loc"] == ["body", "items", 0, "price"]]
    assert problem["input"] == "NaN"


def test_422_echoes_only_an_excerpt_of_the_input(client: TestClient) -> None:
    """A 50,000-character field comes back as at most about 100 characters, in ``input`` and in ``msg``."""
    huge = "Ж" * 50_000
    response = post_raw(client, json.dumps(SALE | {"pos_id": huge, "items": huge}).encode())
    assert response.status_code == 422
    assert len(response.content) < 2_000
    for problem in response.json()["detail"]:
        assert len(json.dumps(problem.get("input", ""), ensure_ascii=False)) <= 110
        assert huge[:200] not in problem["msg"]


def test_a_number_too_long_to_parse_is_400_not_500(client: TestClient) -> None:
    """An integer of 5,000 digits (Python's JSON refuses it) is a client error."""
    response = post_raw(client, b'{"pos_id": "P", "original_fd_number": 1' + b"0" * 5000 + b"}")
    assert response.status_code in (400, 422)


# --- text a fiscal drive can store -----------------------------------------------------------------------------------


def _with_item_name(name: str) -> dict[str, Any]:
    return SALE | {"items": [SALE["items"][0] | {"name": name}]}


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        (SALE | {"pos_id": "POS\x00"}, ["body", "pos_id"], "pos_id: control character U+0000"),
        (SALE | {"pos_id": "POS-1\n"}, ["body", "pos_id"], "pos_id: control character U+000A"),
        (_with_item_name("Milk\x1b[31m"), ["body", "items", 0, "name"], "name: control character U+001B"),
        (_with_item_name("Milk\tfresh"), ["body", "items", 0, "name"], "name: control character U+0009"),
        (_with_item_name("Milk\r"), ["body", "items", 0, "name"], "name: control character U+000D"),
        (_with_item_name("Milk\x7f"), ["body", "items", 0, "name"], "name: control character U+007F"),
        (_with_item_name("Milk\x85"), ["body", "items", 0, "name"], "name: control character U+0085"),
        (
            _with_item_name("Cake \U0001f600"),
            ["body", "items", 0, "name"],
            "name: character U+1F600 cannot be stored by a fiscal drive (CP866)",
        ),
        (
            SALE | {"cashier": {"name": "Иванова ₽"}},
            ["body", "cashier", "name"],
            "name: character U+20BD cannot be stored by a fiscal drive (CP866)",
        ),
    ],
)
def test_receipt_text_a_fiscal_drive_cannot_store_is_422(
    client: TestClient, driver: FakeDriver, body: dict[str, Any], loc: list[object], message: str
) -> None:
    """Control characters and characters outside CP866 are refused, naming the field and the character."""
    response = client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 422
    (problem,) = [p for p in response.json()["detail"] if p["loc"] == loc]
    assert message in problem["msg"]
    assert driver.printed == []


def test_correction_basis_number_is_fiscal_text(client: TestClient) -> None:
    """A correction's basis_number takes the same text rule."""
    body = SALE | {
        "correction_type": "instruction",
        "basis_date": "2025-11-30",
        "basis_number": "ФНС-42\U0001f600",
    }
    response = client.post("/v1/kkt/correction", json=body, headers={"Idempotency-Key": "c1"})
    assert response.status_code == 422
    assert ["body", "basis_number"] in locs(response)


def test_cyrillic_and_numero_sign_print(client: TestClient) -> None:
    """Russian text with № and a non-breaking space (both in CP866) is accepted."""
    response = client.post(
        "/v1/kkt/receipt", json=_with_item_name("Молоко «Домик»"[:7] + "№\u00a01"), headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 200


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


# --- a real server: streaming body, header size, keep-alive, connections --------------------------------------------


def _response_head(sock: socket.socket, *, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.slow
def test_a_real_server_stops_a_streamed_body_at_the_limit(tmp_path: Path) -> None:
    """A chunked 100 MiB upload to a real adapter is answered 413 long before it is all sent, and the server closes
    the connection instead of reading the rest."""
    limit = 65_536
    with AdapterProcess(tmp_path, env={"KKT_MAX_BODY_BYTES": str(limit)}) as adapter:
        sock = socket.create_connection(("127.0.0.1", adapter.port))
        sock.sendall(
            b"POST /v1/kkt/receipt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Idempotency-Key: big\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"10000\r\n" + b" " * 65_536 + b"\r\n"
        sent = 0
        answered = False
        try:
            while sent < 100 * 1024 * 1024:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    answered = True
                    break
                sock.sendall(chunk)
                sent += 65_536
        except (BrokenPipeError, ConnectionResetError):
            pass
        head = _response_head(sock)
        sock.close()
        assert head.startswith(b"HTTP/1.1 413"), head[:200]
        assert b"connection: close" in head.lower()
        assert answered or sent < 100 * 1024 * 1024
        assert sent < 40 * 1024 * 1024, "the server kept reading far past the limit"


@pytest.mark.slow
def test_a_real_server_limits_headers_keep_alive_and_connections(tmp_path: Path) -> None:
    """KKT_MAX_HEADER_BYTES refuses a larger head (431 when complete, 400 from uvicorn while it still arrives),
    KKT_KEEP_ALIVE_TIMEOUT closes an idle kept-alive connection, KKT_MAX_CONNECTIONS answers 503 once that many
    connections are open."""
    env = {"KKT_MAX_HEADER_BYTES": "4096", "KKT_KEEP_ALIVE_TIMEOUT": "1", "KKT_MAX_CONNECTIONS": "4"}
    with AdapterProcess(tmp_path, env=env) as adapter:
        request = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"

        with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
            sock.sendall(request + b"X-Padding: " + b"a" * 8_000 + b"\r\n\r\n")  # complete, in one read
            head = _response_head(sock)
        assert head.startswith(b"HTTP/1.1 431"), head[:200]

        with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
            sock.sendall(request + b"X-Padding: " + b"a" * 8_000)  # still arriving: uvicorn stops buffering it
            head = _response_head(sock)
        assert head.startswith(b"HTTP/1.1 400"), head[:200]

        with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
            sock.sendall(request + b"\r\n")
            assert _response_head(sock).startswith(b"HTTP/1.1 ")
            sock.settimeout(10)
            rest = b""
            while chunk := sock.recv(65536):  # b"" once the server closes the idle connection
                rest += chunk

        idle = [socket.create_connection(("127.0.0.1", adapter.port)) for _ in range(4)]
        try:

            def refused() -> bool:
                with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
                    sock.sendall(request + b"Connection: close\r\n\r\n")
                    return _response_head(sock).startswith(b"HTTP/1.1 503")

            wait_for(refused, timeout=10, what="503 with four idle connections open")
        finally:
            for sock in idle:
                sock.close()

        def served() -> bool:
            with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
                sock.sendall(request + b"Connection: close\r\n\r\n")
                return not _response_head(sock).startswith(b"HTTP/1.1 503")

        wait_for(served, timeout=10, what="requests served again once the idle connections closed")
