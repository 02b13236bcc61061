"""Text the API gives back: echoes of a client's input that are safe and short.

:func:`json_safe` turns whatever a client sent (``NaN``, ``1e309``, lone UTF-16 surrogates, a megabyte of text) into
a short excerpt that JSON can carry, for error answers that show the input. What a fiscal drive can store is the
domain's rule (``kkt_adapter.domain.text``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

#: Characters of an excerpt; longer text is cut and marked with an ellipsis.
EXCERPT_CHARS = 100


def safe_text(value: str, *, limit: int = EXCERPT_CHARS) -> str:
    """``value`` cut to ``limit`` characters (marked with "…"), lone surrogates written as ``\\udXXX``."""
    cut = value if len(value) <= limit else value[:limit] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


def json_safe(value: object, *, limit: int = EXCERPT_CHARS) -> Any:
    """``value`` as something ``json.dumps(allow_nan=False)`` takes, at most about ``limit`` characters of it.

    Non-finite numbers become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``; text is cut and cleaned by
    :func:`safe_text`; a list or object whose JSON would be longer than ``limit`` becomes the excerpt of that JSON, so
    an error never carries the whole request back; anything else becomes its (cut) ``str``.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**limit else f"(a whole number of more than {limit} digits)"
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return safe_text(value, limit=limit)
    if isinstance(value, Mapping | list | tuple):
        tree = _tree(value, limit=limit)
        text = json.dumps(tree, ensure_ascii=False)
        return tree if len(text) <= limit else safe_text(text, limit=limit)
    return safe_text(str(value), limit=limit)


def _tree(value: object, *, limit: int) -> Any:
    if isinstance(value, Mapping):
        return {safe_text(str(key), limit=limit): _tree(item, limit=limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tree(item, limit=limit) for item in value]
    return json_safe(value, limit=limit)


#: The longest message of a validation problem; longer ones only come from echoing the input.
MAX_MESSAGE_CHARS = 2_000


def safe_problem(error: Mapping[str, Any]) -> dict[str, Any]:
    """One validation problem (pydantic's or FastAPI's error dict), JSON-safe, with at most an excerpt of the input,
    in ``input`` and in ``msg``."""
    problem: dict[str, Any] = {
        "loc": [part if isinstance(part, int) else safe_text(str(part)) for part in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": safe_text(str(error.get("type", "value_error"))),
    }
    if "input" in error:
        given, shown = error["input"], json_safe(error["input"])
        if isinstance(given, str) and shown != given and repr(given) in problem["msg"]:
            problem["msg"] = problem["msg"].replace(repr(given), repr(shown))
        problem["input"] = shown
    problem["msg"] = safe_text(problem["msg"], limit=MAX_MESSAGE_CHARS)
    if isinstance(error.get("ctx"), Mapping):
        problem["ctx"] = {safe_text(str(key)): json_safe(value) for key, value in error["ctx"].items()}
    return problem
