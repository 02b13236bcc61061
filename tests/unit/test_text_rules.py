"""The text rules: what a fiscal drive can store, the text policy (normalize, strict), and the JSON-safe excerpts
of a 422."""

from __future__ import annotations

import json

import pytest

from kkt_adapter.api.text import json_safe, safe_problem, safe_text
from kkt_adapter.domain.text import (
    FISCAL_ENCODING,
    REPLACEMENTS,
    Normalized,
    Substitution,
    fiscal_text_problem,
    in_cp866,
    normalize_fiscal_text,
    strict_text_problem,
    text_warnings,
)


@pytest.mark.parametrize(
    "text",
    ["POS-001", "Молоко 3,2% 1 л", "№ 42", "Ёжик", "x" * 1000, "", "t° 5·2"],
)
def test_text_a_fiscal_drive_stores_is_left_alone(text: str) -> None:
    """ASCII, Cyrillic, №, Ё, ° and · are in CP866: nothing to refuse or replace under either policy."""
    assert fiscal_text_problem("name", text) is None
    assert strict_text_problem("name", text) is None
    assert normalize_fiscal_text(text) == Normalized(text, (), ())


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("«Домик»", '"Домик"'),
        ("“Ray-Ban” „RB“ ‘x’", '"Ray-Ban" "RB" \'x\''),
        ("a – b — c ‒ d − 1", "a - b - c - d - 1"),
        ("Салфетка…", "Салфетка..."),
        ("• линза", "* линза"),
        ("Ray-Ban® Zeiss™ ©", "Ray-Ban(R) Zeiss(TM) (C)"),
        ("52×18", "52x18"),
        ("±0,25", "+/-0,25"),
        ("100 ₽", "100 руб."),
        ("5 €", "5 EUR"),
        ("Häagen Café Ñ", "Haagen Cafe N"),
        ("Ø 70", "O 70"),
        ("ﬁt²", "fit2"),
        ("a\tb\u00a0c\u2009d\u202fe\nf", "a b c d e f"),
        ("zero\u200bwidth\u00ad\ufeff", "zerowidth"),
        ("№ 5 ёлка", "№ 5 ёлка"),
    ],
)
def test_normalize_prints_the_documented_replacement(text: str, printed: str) -> None:
    """The table, whitespace to a space, invisible characters removed, accents to their CP866 base letter."""
    normalized = normalize_fiscal_text(text)
    assert normalized.text == printed
    assert normalized.refused == ()
    assert fiscal_text_problem("name", text) is None
    printed.encode(FISCAL_ENCODING)


def test_every_replacement_in_the_table_is_stored_by_a_fiscal_drive() -> None:
    """Each replacement of the documented table is CP866 text, and each replaced character is not."""
    for char, replacement in REPLACEMENTS.items():
        assert not in_cp866(char), char
        replacement.encode(FISCAL_ENCODING)


def test_substitutions_are_counted_once_per_character() -> None:
    """Each distinct character is one substitution, with how many times it was replaced, in order of appearance."""
    normalized = normalize_fiscal_text("«a» «b»")
    assert normalized.substitutions == (Substitution("«", '"', 2), Substitution("»", '"', 2))
    assert text_warnings({"items[0].name": "«a» «b»"})[0] == {
        "code": "text_replaced",
        "field": "items[0].name",
        "from": "«",
        "to": '"',
        "code_point": "U+00AB",
        "count": 2,
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00", "name: cannot be stored by a fiscal drive (CP866) and has no replacement: '\\x00' (U+0000)"),
        ("\x1b[0m", "name: cannot be stored by a fiscal drive (CP866) and has no replacement: '\\x1b' (U+001B)"),
        (
            "a\x7f\x80",
            "name: cannot be stored by a fiscal drive (CP866) and has no replacement: '\\x7f' (U+007F), "
            "'\\x80' (U+0080)",
        ),
        (
            "smile 😀 😀 🙂",
            "name: cannot be stored by a fiscal drive (CP866) and has no replacement: '😀' (U+1F600), '🙂' (U+1F642)",
        ),
        ("a\ud800", "name: cannot be stored by a fiscal drive (CP866) and has no replacement: '\\ud800' (U+D800)"),
        (
            "«😀»",
            "name: cannot be stored by a fiscal drive (CP866) and has no replacement: '😀' (U+1F600) "
            "(would be replaced: '«' (U+00AB) → '\"', '»' (U+00BB) → '\"')",
        ),
    ],
)
def test_what_has_no_replacement_is_refused_all_at_once(text: str, problem: str) -> None:
    """Control characters, emoji and lone surrogates are refused under ``normalize``, every one named at once."""
    assert fiscal_text_problem("name", text) == problem


@pytest.mark.parametrize(
    ("text", "listed"),
    [
        ("a\tb", "'\\t' (U+0009)"),
        ("a\r\n", "'\\r' (U+000D), '\\n' (U+000A)"),
        ("a\u00a0b", "'\\xa0' (U+00A0)"),
        ("100 ₽", "'₽' (U+20BD)"),
        ("«Домик» — дом…", "'«' (U+00AB), '»' (U+00BB), '—' (U+2014), '…' (U+2026)"),
        ("€ 😀", "'€' (U+20AC), '😀' (U+1F600)"),
    ],
)
def test_strict_lists_every_character_it_refuses(text: str, listed: str) -> None:
    """Under ``strict`` every character the table would change (or cannot) is named, with its code point."""
    problem = strict_text_problem("items[0].name", text)
    assert problem is not None
    assert problem.startswith("items[0].name: the strict text policy")
    assert problem.endswith(": " + listed)


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
