"""Clear answers to common client mistakes: a JSON body without ``Content-Type`` (1C's HTTP connection sends none) or
as ``text/plain`` is read as JSON when it parses, otherwise refused saying to send ``application/json``; a JSON syntax
error names its line and column. Every refusal keeps the 422 shape FastAPI clients read: ``detail`` a list of
``{loc, msg, type}``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import AdapterProcess, FakeClock, FakeDriver, bodies

#: A trailing comma on line 3, column 5 (the closing brace that follows it is where JSON finds the mistake).
TRAILING_COMMA = b'{\n  "pos_id": "POS-1",\n    }'


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


@pytest.fixture
def client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=FakeClock(), driver=driver)) as c:
        yield c


def assert_one_problem(response: Any, *phrases: str) -> dict[str, Any]:
    """A 422 whose ``detail`` is a list of one ``{loc, msg, type}`` saying each of ``phrases``; that problem."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and len(detail) == 1, detail
    (problem,) = detail
    assert {"loc", "msg", "type"} <= problem.keys()
    for phrase in phrases:
        assert phrase in problem["msg"], problem["msg"]
    return dict(problem)


class TestNoContentType:
    @pytest.mark.parametrize("content_type", [None, "text/plain", "text/plain; charset=utf-8"])
    def test_a_sale_without_a_json_type_is_read_as_json(
        self, client: TestClient, driver: FakeDriver, content_type: str | None
    ) -> None:
        """No Content-Type, or text/plain: the body parses, so the sale is printed as if typed, and replays by key."""
        headers = {"Idempotency-Key": "k1"} | ({} if content_type is None else {"Content-Type": content_type})
        first = client.post("/v1/kkt/receipt", content=raw(bodies.sale(100)), headers=headers)
        assert first.status_code == 200, first.text
        typed = client.post("/v1/kkt/receipt", json=bodies.sale(100), headers={"Idempotency-Key": "k1"})
        assert typed.content == first.content
        assert len(driver.printed) == 1

    def test_every_post_route_reads_an_untyped_json_body(self, client: TestClient) -> None:
        """The correction, the shift routes and the refund check read an untyped JSON body as JSON too."""
        cashier = raw({"cashier": {"name": "Иванова А."}})
        assert client.post("/v1/kkt/shift/open", content=cashier).status_code == 200
        correction = bodies.correction("89.90", name="Молоко", correction_type="self", basis_date="2026-11-20")
        assert client.post("/v1/kkt/correction", content=raw(correction), headers={"Idempotency-Key": "c1"}).is_success
        assert client.post("/v1/kkt/z_report", content=cashier).status_code == 200
        check = client.post("/v1/pos/refund", content=raw({"original_fiscal_doc_id": "no-such-sale"}))
        assert check.status_code == 404, check.text

    def test_an_untyped_body_that_is_not_json_says_to_send_application_json(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """Not JSON and no type: 422 naming the syntax error's line and column and telling to send the JSON type."""
        response = client.post("/v1/kkt/receipt", content=TRAILING_COMMA, headers={"Idempotency-Key": "k2"})
        problem = assert_one_problem(
            response, "JSON syntax error at line 3, column 5", "no Content-Type", "Content-Type: application/json"
        )
        assert problem["type"] == "json_invalid"
        assert driver.printed == []

    def test_a_form_is_refused_naming_the_content_type(self, client: TestClient) -> None:
        """A body of another type (a form) is 422 at the Content-Type header, saying to send JSON."""
        response = client.post("/v1/kkt/receipt", data={"pos_id": "1"}, headers={"Idempotency-Key": "k3"})
        problem = assert_one_problem(response, "is not JSON", "Content-Type: application/json")
        assert problem["loc"] == ["header", "content-type"]

    def test_a_body_that_is_not_utf8_is_refused_plainly(self, client: TestClient) -> None:
        """A body in Windows-1251 without a type is 422 saying it is not UTF-8 JSON."""
        body = raw(bodies.sale(100)).decode().replace("POS-001", "Касса").encode("cp1251")
        response = client.post("/v1/kkt/receipt", content=body, headers={"Idempotency-Key": "k4"})
        assert_one_problem(response, "not JSON in UTF-8", "Content-Type: application/json")


class TestSyntaxErrors:
    @pytest.mark.parametrize("path", ["/v1/kkt/receipt", "/v1/kkt/correction", "/v1/pos/refund"])
    def test_a_trailing_comma_names_line_and_column(self, client: TestClient, path: str) -> None:
        """A JSON syntax error in a typed body names line and column, in the detail list's shape."""
        headers = {"Idempotency-Key": "k5", "Content-Type": "application/json"}
        response = client.post(path, content=TRAILING_COMMA, headers=headers)
        problem = assert_one_problem(response, "JSON syntax error at line 3, column 5: Expecting property name")
        assert problem["type"] == "json_invalid"
        assert problem["loc"][0] == "body"
        assert problem["ctx"]["line"] == 3 and problem["ctx"]["column"] == 5

    def test_the_short_path_and_the_route_answer_alike(self, client: TestClient) -> None:
        """The receipt's short path hands a body it cannot parse to the route: with the key and without it, the same
        problem."""
        typed = {"Content-Type": "application/json"}
        with_key = client.post("/v1/kkt/receipt", content=TRAILING_COMMA, headers=typed | {"Idempotency-Key": "k6"})
        without = client.post("/v1/kkt/receipt", content=TRAILING_COMMA, headers=typed)
        assert with_key.json()["detail"][0]["msg"] == without.json()["detail"][0]["msg"]


def test_a_real_process_reads_an_untyped_sale_and_names_a_syntax_error(tmp_path: Path) -> None:
    """Over a real socket: a sale without Content-Type prints; a trailing comma is a 422 naming line and column."""
    with AdapterProcess(tmp_path / "data") as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        sale = http.post("/v1/kkt/receipt", content=raw(bodies.sale(100)), headers={"Idempotency-Key": "r1"})
        assert "content-type" not in sale.request.headers
        assert sale.status_code == 200, sale.text
        assert sale.json()["status"] == "printed"
        broken = http.post("/v1/kkt/receipt", content=TRAILING_COMMA, headers={"Idempotency-Key": "r2"})
        assert_one_problem(broken, "JSON syntax error at line 3, column 5", "Content-Type: application/json")
