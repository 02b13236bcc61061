"""Reading one tag's value for the mock OFD's checks: each reader returns the value in its type or refuses the
document with an OFD-style code (``INVALID_TAG`` unless the caller names a more precise one)."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kkt_emulators import fiscal


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the OFD refuses a document: HTTP status, OFD-style code, message."""

    status: int
    code: str
    message: str

    def answer(self) -> dict[str, str]:
        """The JSON body of the 4xx answer."""
        return {"error": self.message, "code": self.code}


class Reject(Exception):
    """Raised by a check: the document is refused with 422, ``code`` and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.rejection = Rejection(422, code, message)


def string(doc: Mapping[str, Any], tag: str, *, code: str = "INVALID_TAG") -> str:
    """Tag ``tag`` as text (a number is taken as its decimal text)."""
    value = doc[tag]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Reject(code, f"tag {tag} must be a string, got {value!r}")
    return str(value)


def text(doc: Mapping[str, Any], tag: str, what: str, *, max_length: int, code: str = "INVALID_TAG") -> str:
    """Tag ``tag`` as a JSON string of 1..``max_length`` characters, not only blanks."""
    value = doc[tag]
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise Reject(code, f"{what} ({tag}) must be a non-empty string of at most {max_length} characters")
    return value


def integer(doc: Mapping[str, Any], tag: str, *, code: str = "INVALID_TAG") -> int:
    """Tag ``tag`` as an integer (a string of digits is accepted)."""
    value = doc[tag]
    if isinstance(value, bool):
        raise Reject(code, f"tag {tag} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise Reject(code, f"tag {tag} must be an integer, got {value!r}")


def at_least(doc: Mapping[str, Any], tag: str, minimum: int, *, code: str = "INVALID_TAG") -> int:
    """Tag ``tag`` as an integer not below ``minimum``."""
    value = integer(doc, tag, code=code)
    if value < minimum:
        raise Reject(code, f"tag {tag} must be at least {minimum}, got {value}")
    return value


def one_of(
    doc: Mapping[str, Any], tag: str, allowed: Container[int], what: str, *, said: str, code: str = "INVALID_TAG"
) -> int:
    """Tag ``tag`` as an integer among ``allowed``; ``said`` tells them in words for the message (``"1..4"``)."""
    value = integer(doc, tag, code=code)
    if value not in allowed:
        raise Reject(code, f"{what} ({tag}) must be {said}, got {value}")
    return value


def money(doc: Mapping[str, Any], tag: str) -> int:
    """Tag ``tag`` as a non-negative integer number of kopecks."""
    value = doc[tag]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Reject("INVALID_TAG", f"tag {tag} must be a non-negative integer of kopecks, got {value!r}")
    return value


def flag(doc: Mapping[str, Any], tag: str) -> bool:
    """Tag ``tag`` as a JSON boolean."""
    value = doc[tag]
    if not isinstance(value, bool):
        raise Reject("INVALID_TAG", f"tag {tag} must be true or false, got {value!r}")
    return value


def date_time(doc: Mapping[str, Any], tag: str, what: str, *, code: str = "INVALID_TAG") -> datetime:
    """Tag ``tag`` as a local date-time written ``YYYY-MM-DDTHH:MM:SS``."""
    parsed = fiscal.parse_document_datetime(doc[tag])
    if parsed is None:
        raise Reject(code, f"{what} ({tag}) {doc[tag]!r} is not YYYY-MM-DDTHH:MM:SS")
    return parsed


def calendar_date(doc: Mapping[str, Any], tag: str, what: str, *, code: str = "INVALID_TAG") -> date:
    """Tag ``tag`` as a date written ``YYYY-MM-DD``."""
    parsed = fiscal.parse_document_date(doc[tag])
    if parsed is None:
        raise Reject(code, f"{what} ({tag}) {doc[tag]!r} is not YYYY-MM-DD")
    return parsed
