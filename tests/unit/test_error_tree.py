"""The error tree drawn in ``domain/errors.py``'s docstring is the tree the code defines and the API maps."""

from __future__ import annotations

import inspect
import re

from kkt_adapter.api.errors import STATUS
from kkt_adapter.domain import errors


def _drawn_tree() -> dict[str, str]:
    """Each class named in the docstring's drawing → its parent (by indentation)."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^((?:[│ ]   )*[├└]── )?(\w+)\b", line)
        if match is None or (match.group(1) is None and match.group(2) != "AdapterError"):
            continue
        depth = len(match.group(1) or "")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[match.group(2)] = stack[-1][1]
        stack.append((depth, match.group(2)))
    return parents


def test_docstring_draws_every_error_with_its_parent() -> None:
    """Every AdapterError subclass appears in the drawing under its real base class, and nothing else does."""
    defined = {
        name: cls.__mro__[1].__name__
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.AdapterError) and cls is not errors.AdapterError
    }
    assert _drawn_tree() == defined


def test_every_error_has_an_http_status() -> None:
    """The HTTP table answers every error of the tree (none falls through to a bare 500)."""
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.AdapterError) and cls is not errors.AdapterError:
            assert any(kind in STATUS for kind in cls.__mro__), cls
