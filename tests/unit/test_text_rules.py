"""The text rules of the API: what a fiscal drive can store, and the JSON-safe excerpts of a 422."""

from __future__ import annotations

import json

import pytest

from kkt_adapter.api.text import json_safe, safe_problem, safe_text
from kkt_adapter.domain.text import fiscal_text_problem


@pytest.mark.parametrize(
    "text",
    ["POS-001", "Молоко 3,2% 1 л", "№ 42", "Ёжик", "a\u00a0b", "x" * 1000, "", "ТОВАР «БЕЗ» КАВЫЧЕК"[:5]],
)
def test_text_a_fiscal_drive_stores(text: str) -> None:
    """ASCII, Cyrillic, №, Ё and the non-breaking space are all in CP866."""
    assert fiscal_text_problem("name", text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00", "name: control character U+0000 is not allowed"),
        ("\x1b[0m", "name: control character U+001B is not allowed"),
        ("a\tb", "name: control character U+0009 is not allowed"),
        ("a\r\n", "name: control character U+000D is not allowed"),
        ("a\n", "name: control character U+000A is not allowed"),
        ("a\x7f", "name: control character U+007F is not allowed"),
        ("a\x80", "name: control character U+0080 is not allowed"),
        ("a\x9f", "name: control character U+009F is not allowed"),
        ("smile \U0001f600", "name: character U+1F600 cannot be stored by a fiscal drive (CP866)"),
        ("100 ₽", "name: character U+20BD cannot be stored by a fiscal drive (CP866)"),
        ("«Домик»", "name: character U+00AB cannot be stored by a fiscal drive (CP866)"),
        ("a — b", "name: character U+2014 cannot be stored by a fiscal drive (CP866)"),
        ("€", "name: character U+20AC cannot be stored by a fiscal drive (CP866)"),
        ("a\ud800", "name: U+D800 is a lone UTF-16 surrogate, not a character"),
    ],
)
def test_text_a_fiscal_drive_refuses(text: str, problem: str) -> None:
    """Control characters (C0, DEL, C1) and characters outside CP866 are named with their code point."""
    assert fiscal_text_problem("name", text) == problem


def test_a_control_character_is_named_before_an_unencodable_one() -> None:
    """The first rule broken is reported: control characters before CP866."""
    assert fiscal_text_problem("pos_id", "\U0001f600\x00") == "pos_id: control character U+0000 is not allowed"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (1.5, 1.5),
        (7, 7),
        (True, True),
        (None, None),
        ("\ud800", "\\ud800"),
        ("x" * 150, "x" * 100 + "…"),
        ({"a": [1, float("nan")]}, {"a": [1, "NaN"]}),
        (10**200, "(a whole number of more than 100 digits)"),
    ],
)
def test_json_safe_values(value: object, expected: object) -> None:
    """Non-finite numbers become strings, surrogates escapes, long text an excerpt."""
    assert json_safe(value) == expected


def test_a_large_object_becomes_an_excerpt_of_its_json() -> None:
    """A request body echoed by a "missing" error is cut to about 100 characters."""
    shown = json_safe({"items": [{"name": "x" * 50}] * 1000})
    assert isinstance(shown, str)
    assert len(shown) == 101
    assert shown.startswith('{"items": [{"name": ')


def test_safe_problem_is_strict_json_and_short() -> None:
    """Every part of a problem survives ``json.dumps(allow_nan=False)``; the input is cut in ``msg`` too."""
    long_value = "v" * 5000
    problem = safe_problem(
        {
            "loc": ("body", "\udc00key", 3),
            "msg": f"Value error, got {long_value!r}",
            "type": "value_error",
            "input": long_value,
            "ctx": {"error": ValueError("bad"), "limit": float("inf")},
        }
    )
    text = json.dumps(problem, allow_nan=False)
    text.encode("utf-8")
    assert problem["loc"] == ["body", "\\udc00key", 3]
    assert problem["input"] == "v" * 100 + "…"
    assert long_value not in problem["msg"]
    assert problem["ctx"] == {"error": "bad", "limit": "Infinity"}


def test_safe_text_keeps_short_text() -> None:
    """Text within the limit comes back as it was."""
    assert safe_text("Молоко") == "Молоко"
