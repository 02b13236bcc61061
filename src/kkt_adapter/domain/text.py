"""Text a fiscal drive can store: its strings (item names, the cashier, the POS id, a correction's basis) are in code
page 866, and a printed receipt has no place for control characters.

:func:`fiscal_text_problem` says why a text cannot go there, naming the field and the character by its code point.
"""

from __future__ import annotations

import re
from typing import Final

#: The encoding of a fiscal drive's strings (FFD: CP866).
FISCAL_ENCODING: Final = "cp866"

#: C0 controls (NUL, TAB, LF, CR, ESC, ...), DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def fiscal_text_problem(field: str, value: str) -> str | None:
    """Why ``value`` cannot be a fiscal drive's text (naming ``field`` and the character), or ``None`` if it can."""
    control = _CONTROL.search(value)
    if control is not None:
        return f"{field}: control character {_code_point(control.group())} is not allowed"
    try:
        value.encode(FISCAL_ENCODING)
    except UnicodeEncodeError as exc:
        char = value[exc.start]
        if 0xD800 <= ord(char) <= 0xDFFF:
            return f"{field}: {_code_point(char)} is a lone UTF-16 surrogate, not a character"
        return f"{field}: character {_code_point(char)} cannot be stored by a fiscal drive (CP866)"
    return None
