"""Input the API refuses without harm: non-finite numbers, lone surrogates and huge fields are JSON-safe, short
422s; text a fiscal drive cannot store is a 422 naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.testing import FakeDriver

from .support import SALE, locs, make_client, post_raw

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


@pytest.fixture
def strict_client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    with make_client(tmp_path, driver, text_policy="strict") as c:
        yield c


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        (SALE | {"pos_id": "POS\x00"}, ["body", "pos_id"], "'\\x00' (U+0000)"),
        (SALE | {"pos_id": "POS-1\n"}, ["body", "pos_id"], "'\\n' (U+000A)"),
        (_with_item_name("Milk\x1b[31m"), ["body", "items", 0, "name"], "'\\x1b' (U+001B)"),
        (_with_item_name("Milk\tfresh"), ["body", "items", 0, "name"], "'\\t' (U+0009)"),
        (_with_item_name("Milk\r"), ["body", "items", 0, "name"], "'\\r' (U+000D)"),
        (_with_item_name("Milk\x7f"), ["body", "items", 0, "name"], "'\\x7f' (U+007F)"),
        (_with_item_name("Milk\x85"), ["body", "items", 0, "name"], "'\\x85' (U+0085)"),
        (_with_item_name("Cake \U0001f600"), ["body", "items", 0, "name"], "'\U0001f600' (U+1F600)"),
        (_with_item_name("«Cake» — 5"), ["body", "items", 0, "name"], "'«' (U+00AB), '»' (U+00BB), '—' (U+2014)"),
        (SALE | {"cashier": {"name": "Иванова ₽"}}, ["body", "cashier", "name"], "'₽' (U+20BD)"),
    ],
)
def test_strict_text_a_fiscal_drive_cannot_store_is_422(
    strict_client: TestClient, driver: FakeDriver, body: dict[str, Any], loc: list[object], message: str
) -> None:
    """Under KKT_TEXT_POLICY=strict, control characters and characters outside CP866 are refused, naming the field
    and every such character with its code point."""
    response = strict_client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 422
    (problem,) = [p for p in response.json()["detail"] if p["loc"] == loc]
    assert message in problem["msg"]
    assert driver.printed == []


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        (SALE | {"pos_id": "POS\x00"}, ["body", "pos_id"], "no replacement: '\\x00' (U+0000)"),
        (_with_item_name("Milk\x1b[31m"), ["body", "items", 0, "name"], "no replacement: '\\x1b' (U+001B)"),
        (_with_item_name("Milk\x7f"), ["body", "items", 0, "name"], "no replacement: '\\x7f' (U+007F)"),
        (
            _with_item_name("«Cake» \U0001f600\U0001f382"),
            ["body", "items", 0, "name"],
            "no replacement: '\U0001f600' (U+1F600), '\U0001f382' (U+1F382) (would be replaced: '«' (U+00AB)",
        ),
    ],
)
def test_text_without_a_replacement_is_422(
    client: TestClient, driver: FakeDriver, body: dict[str, Any], loc: list[object], message: str
) -> None:
    """Under the default policy, what the table cannot replace (control characters, emoji) is refused, every such
    character of the field named at once."""
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
    """Russian text with № and a non-breaking space (both in CP866) is accepted (the space printed as a space)."""
    response = client.post(
        "/v1/kkt/receipt", json=_with_item_name("Молоко «Домик»"[:7] + "№\u00a01"), headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 200
