"""The OpenAPI description: every route lists the status codes it can answer, with a body for each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings

#: Every route's documented status codes (the middleware's 400, 401, 431 and a storage 503 on every one).
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("post", "/v1/kkt/receipt"): {"200", "400", "401", "409", "413", "422", "431", "503"},
    ("post", "/v1/kkt/correction"): {"200", "400", "401", "409", "413", "422", "431", "503"},
    ("post", "/v1/pos/refund"): {"200", "400", "401", "404", "409", "413", "422", "431", "503"},
    ("get", "/v1/kkt/receipt/{receipt_id}"): {"200", "400", "401", "404", "422", "431", "503"},
    ("get", "/v1/kkt/receipt/{receipt_id}/qr.svg"): {"200", "400", "401", "404", "422", "431", "503"},
    ("get", "/v1/kkt/receipt/{receipt_id}/qr.png"): {"200", "400", "401", "404", "422", "431", "503"},
    ("get", "/v1/kkt/receipt/{receipt_id}/events"): {"200", "400", "401", "404", "422", "431", "503"},
    ("get", "/v1/kkt/receipts"): {"200", "400", "401", "422", "431", "503"},
    ("get", "/v1/kkt/shift"): {"200", "400", "401", "422", "431", "503"},
    ("post", "/v1/kkt/shift/open"): {"200", "400", "401", "409", "413", "422", "431", "503"},
    ("post", "/v1/kkt/shift/close"): {"200", "400", "401", "409", "413", "422", "431", "503"},
    ("post", "/v1/kkt/z_report"): {"200", "400", "401", "409", "413", "422", "431", "503"},
    ("post", "/v1/kkt/x_report"): {"200", "400", "401", "409", "413", "422", "431", "503"},
    ("get", "/v1/kkt/fn"): {"200", "400", "401", "422", "431", "503"},
    ("get", "/v1/kkt/devices"): {"200", "400", "401", "431", "503"},
    ("get", "/v1/kkt/buffer/status"): {"200", "400", "401", "431", "503"},
    ("post", "/v1/kkt/buffer/sync"): {"200", "400", "401", "409", "413", "431", "503"},
    ("get", "/v1/kkt/worker/status"): {"200", "400", "401", "431", "503"},
    ("get", "/v1/kkt/dlq"): {"200", "400", "401", "422", "431", "503"},
    ("post", "/v1/kkt/dlq/{receipt_id}/requeue"): {"200", "400", "401", "404", "413", "422", "431", "503"},
    ("get", "/v1/health"): {"200", "400", "431", "503"},
    ("get", "/v1/kkt/heartbeat/status"): {"200", "400", "401", "431", "503"},
    ("get", "/metrics"): {"200", "400", "401", "431", "503"},
}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("data")
    settings = load_settings({"KKT_DATA_DIR": str(data_dir), "KKT_SYNC_ENABLED": "false"})
    schema: dict[str, Any] = create_app(settings).openapi()
    return schema


def _operation(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = openapi["paths"][path][method]
    return operation


def _json_schema(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def test_every_route_is_described(openapi: dict[str, Any]) -> None:
    described = {(method, path) for path, item in openapi["paths"].items() for method in item}
    assert described == set(EXPECTED)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_the_schema_lists_the_codes_of_each_route(openapi: dict[str, Any], method: str, path: str) -> None:
    """Each route lists exactly the status codes it can answer, each with a body model (images and text aside)."""
    responses = _operation(openapi, method, path)["responses"]
    assert set(responses) == EXPECTED[method, path]
    for code, response in responses.items():
        if code == "200" and (path.endswith((".svg", ".png")) or path == "/metrics"):
            continue
        assert "$ref" in str(_json_schema(response)), (method, path, code)


def test_models_for_every_200(openapi: dict[str, Any]) -> None:
    refs = {
        ("post", "/v1/kkt/receipt"): "ReceiptAnswerOut",
        ("get", "/v1/kkt/receipt/{receipt_id}"): "ReceiptViewOut",
        ("get", "/v1/kkt/buffer/status"): "BufferStatusOut",
        ("get", "/v1/health"): "HealthOut",
        ("get", "/v1/kkt/shift"): "ShiftOut",
        ("post", "/v1/kkt/x_report"): "XReportOut",
        ("post", "/v1/kkt/z_report"): "ZReportOut",
        ("get", "/v1/kkt/fn"): "FnOut",
        ("get", "/v1/kkt/dlq"): "DeadLettersOut",
        ("get", "/v1/kkt/worker/status"): "WorkerStatusOut",
        ("post", "/v1/pos/refund"): "RefundCheckOut",
    }
    for (method, path), name in refs.items():
        schema = _json_schema(_operation(openapi, method, path)["responses"]["200"])
        assert schema["$ref"] == f"#/components/schemas/{name}", (method, path)


def test_error_bodies(openapi: dict[str, Any]) -> None:
    """A 503 is ``{"detail", "error"}``; a 422 is either the field list or the idempotency conflict's body."""
    schemas = openapi["components"]["schemas"]
    assert set(schemas["ErrorOut"]["required"]) == {"detail", "error"}
    receipt = _operation(openapi, "post", "/v1/kkt/receipt")["responses"]
    assert _json_schema(receipt["503"])["$ref"].endswith("/ErrorOut")
    assert "Retry-After" in receipt["503"]["headers"]
    unprocessable = schemas[_json_schema(receipt["422"])["$ref"].rsplit("/", 1)[1]]
    alternatives = {ref["$ref"].rsplit("/", 1)[1] for ref in unprocessable["anyOf"]}
    assert alternatives == {"FieldErrorsOut", "ErrorOut"}


def test_metrics_is_text_and_qr_are_images(openapi: dict[str, Any]) -> None:
    assert set(_operation(openapi, "get", "/metrics")["responses"]["200"]["content"]) == {"text/plain"}
    svg = _operation(openapi, "get", "/v1/kkt/receipt/{receipt_id}/qr.svg")["responses"]["200"]["content"]
    png = _operation(openapi, "get", "/v1/kkt/receipt/{receipt_id}/qr.png")["responses"]["200"]["content"]
    assert set(svg) == {"image/svg+xml"}
    assert set(png) == {"image/png"}


def test_money_and_enumerations(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    price = schemas["ItemIn"]["properties"]["price"]
    assert {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$"} in price["anyOf"]
    vat = schemas["ItemIn"]["properties"]["vat_rate"]["anyOf"]
    assert set(vat[0]["enum"]) == {
        "22",
        "20",
        "10",
        "7",
        "5",
        "0",
        "none",
        "22/122",
        "20/120",
        "10/110",
        "7/107",
        "5/105",
    }
    assert set(vat[1]["enum"]) == {22, 20, 10, 7, 5, 0}
    assert set(schemas["PaymentIn"]["properties"]["type"]["enum"]) == {
        "cash",
        "card",
        "electronic",
        "prepaid",
        "credit",
        "provision",
    }
    assert schemas["ReceiptViewOut"]["properties"]["total"]["pattern"] == r"^-?[0-9]+\.[0-9]{2}$"
