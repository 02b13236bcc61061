"""Every error answer keeps its ``detail`` and gains a stable ``code`` and a ``message`` for people, in Russian by
default or English when ``Accept-Language`` asks for it (api/messages.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.api.messages import MESSAGES, language, message
from kkt_adapter.config import load_settings
from kkt_adapter.testing import FakeClock, FakeDriver


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "ru"),
        ("", "ru"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,de;q=0.9", "ru"),
        ("de-DE,en;q=0.8,ru;q=0.9", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("fr, en;q=0.5", "en"),
        ("en;q=0, ru;q=0", "ru"),
    ],
)
def test_the_language_is_the_first_spoken_one_by_weight(header: str | None, expected: str) -> None:
    """A table of ``Accept-Language`` headers and the language of the answer."""
    assert language(header) == expected


def test_every_message_has_both_languages_and_unknown_codes_get_their_kinds() -> None:
    """No code has an empty text; an unknown device code gets the device's general message, never another language."""
    for code, (ru, en) in MESSAGES.items():
        assert ru and en, code
    assert "ККТ" in message("some_new_driver_code", "ru", kind="device")
    assert message("some_new_driver_code", "en", kind="device").startswith("The KKT")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=FakeClock(), driver=FakeDriver())) as c:
        yield c


def test_an_error_answers_its_detail_code_and_message_in_the_asked_language(client: TestClient) -> None:
    """A 404 keeps its English ``detail`` and ``error``, and adds ``code`` and a Russian ``message`` by default, an
    English one when asked."""
    russian = client.get("/v1/kkt/receipt/nope").json()
    assert russian["detail"] == "no receipt 'nope'" and russian["error"] == "not_found"
    assert russian["code"] == "not_found" and russian["message"] == "Не найдено."
    english = client.get("/v1/kkt/receipt/nope", headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    assert english["message"] == "Not found." and english["detail"] == russian["detail"]


def test_a_refused_device_and_a_wrong_request_have_codes_and_messages(client: TestClient) -> None:
    """The shift's conflict (a device's code) and a request that fails validation (``invalid_request``) both carry a
    code and a message in one language."""
    client.post("/v1/kkt/z_report")
    closed = client.post("/v1/kkt/z_report", headers={"Accept-Language": "ru"})
    assert closed.status_code == 409
    assert closed.json()["code"] == "shift_not_open"
    assert closed.json()["message"] == "Смена не открыта: откройте смену."
    wrong = client.post(
        "/v1/kkt/receipt", json={"type": "sale"}, headers={"Idempotency-Key": "w1", "Accept-Language": "en"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid_request" and isinstance(wrong.json()["detail"], list)
    assert wrong.json()["message"].startswith("The request")


def test_the_request_guards_answer_with_a_code_and_a_message_too(tmp_path: Path) -> None:
    """A 401 of the token guard, answered before any route, has the same shape: ``code`` and ``message``."""
    settings = load_settings(
        {"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false", "KKT_API_TOKEN": "s3cret-token-0123456789"}
    )
    with TestClient(create_app(settings, clock=FakeClock(), driver=FakeDriver())) as c:
        refused = c.get("/v1/kkt/buffer/status", headers={"Accept-Language": "en"})
    assert refused.status_code == 401
    assert refused.json()["error"] == refused.json()["code"] == "unauthorized"
    assert refused.json()["message"] == "An API token is required."
