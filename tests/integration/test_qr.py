"""GET /v1/kkt/receipt/{id}/qr.svg and qr.png: the receipt's FNS QR string as an image, decoded back by a reader."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import FakeClock, FakeDriver, bodies

SALE: dict[str, Any] = bodies.sale("179.80", items=[bodies.item("Молоко", "89.90", 2)], paid_by="card")
SVG_NS = "{http://www.w3.org/2000/svg}"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=FakeClock(), driver=FakeDriver())) as c:
        yield c


@pytest.fixture
def sale(client: TestClient) -> dict[str, Any]:
    response = client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "qr-sale-1"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def decode(png: bytes) -> list[str]:
    """The texts of the QR codes a reader finds in a PNG."""
    return [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_png_decodes_to_the_receipts_qr_string(client: TestClient, sale: dict[str, Any]) -> None:
    """The PNG is a QR code that a reader decodes to exactly the receipt's ``qr_code_data``."""
    response = client.get(f"/v1/kkt/receipt/{sale['receipt_id']}/qr.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(response.content) == [sale["fiscal_doc"]["qr_code_data"]]


def test_svg_is_xml_with_a_path(client: TestClient, sale: dict[str, Any]) -> None:
    """The SVG parses as XML, is an ``<svg>`` document and draws the code as a path."""
    response = client.get(f"/v1/kkt/receipt/{sale['receipt_id']}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG_NS}svg"
    assert root.find(f".//{SVG_NS}path") is not None


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_images_may_be_cached_for_good(client: TestClient, sale: dict[str, Any], kind: str) -> None:
    """A signed document never changes, so both images are public and immutable for a year."""
    response = client.get(f"/v1/kkt/receipt/{sale['receipt_id']}/qr.{kind}")
    assert response.headers["cache-control"] == IMMUTABLE


def test_scale_sets_the_png_size(client: TestClient, sale: dict[str, Any]) -> None:
    """``?scale=`` is the module size: scale 10 gives an image 2.5 times as wide as scale 4, both decodable."""
    sizes = []
    for scale in (4, 10):
        png = client.get(f"/v1/kkt/receipt/{sale['receipt_id']}/qr.png", params={"scale": scale}).content
        assert decode(png) == [sale["fiscal_doc"]["qr_code_data"]]
        sizes.append(Image.open(io.BytesIO(png)).size[0])
    assert sizes[1] * 4 == sizes[0] * 10


@pytest.mark.parametrize("scale", ["0", "21", "big"])
def test_scale_out_of_range_is_a_422_naming_it(client: TestClient, sale: dict[str, Any], scale: str) -> None:
    """A scale outside 1–20 is refused, naming the query parameter."""
    response = client.get(f"/v1/kkt/receipt/{sale['receipt_id']}/qr.png", params={"scale": scale})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "scale"]


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_unknown_receipt_is_a_404_like_the_others(client: TestClient, kind: str) -> None:
    """An unknown id answers 404 with the body every other 404 of the API has."""
    response = client.get(f"/v1/kkt/receipt/nope/qr.{kind}")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "no receipt 'nope'",
        "error": "not_found",
        "code": "not_found",
        "message": "Не найдено.",
    }
    assert response.json().keys() == client.get("/v1/kkt/receipt/nope").json().keys()


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_a_shift_report_has_no_qr_code(client: TestClient, sale: dict[str, Any], kind: str) -> None:
    """The Z report is a fiscal document without a QR string: 404, not an empty image."""
    z = client.post("/v1/kkt/z_report")
    assert z.status_code == 200, z.text
    report = client.app.state.adapter.buffer.find(z.json()["fiscal_doc_number"])  # type: ignore[attr-defined]
    assert report is not None and report.doc_type == 5
    response = client.get(f"/v1/kkt/receipt/{report.receipt_id}/qr.{kind}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "no QR code" in response.json()["detail"]
