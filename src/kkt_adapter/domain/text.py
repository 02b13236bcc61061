"""Text a fiscal drive can store, and the text policy that gets a catalogue's text there.

A fiscal drive's strings (item names, the cashier, a correction's basis) are "printable characters of code page 866"
(FFD 1.05 / 1.2 format annexes). Catalogues exported from 1C, Word or an ERP hold characters outside it on their own
(« » — ® ™ × ₽ …), so the adapter decides once, before any driver, what they become (``KKT_TEXT_POLICY``):

- ``normalize`` (the default): :data:`REPLACEMENTS` first, then whitespace (tab, NBSP, thin spaces, line breaks) to a
  space, invisible format characters (zero-width spaces and joiners, soft hyphens, BOM) removed, then a letter with
  accents to its base letter when the base is in CP866 (Unicode compatibility decomposition: ``é`` → ``e``, ``ä`` →
  ``a``, ``ﬁ`` → ``fi``, ``²`` → ``2``); what is left outside CP866, and control characters, are refused.
- ``strict``: any character outside CP866 is refused, as before the policy existed.

A refusal names every offending character of the field at once, as the character and its code point (``'«'
(U+00AB)``). Characters in CP866 are never changed (``№ ё ° ·`` stay), except whitespace other than the space.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

#: The encoding of a fiscal drive's strings (FFD: CP866).
FISCAL_ENCODING: Final = "cp866"

TextPolicy = Literal["normalize", "strict"]
TEXT_POLICIES: Final[tuple[TextPolicy, ...]] = ("normalize", "strict")

#: The documented table: characters outside CP866 that catalogues are full of, and what a receipt prints instead.
REPLACEMENTS: Final[Mapping[str, str]] = {
    # quotation marks
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "‹": "'",
    "›": "'",
    # dashes, hyphens and the minus sign
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    # symbols
    "…": "...",
    "•": "*",
    "®": "(R)",
    "™": "(TM)",
    "©": "(C)",
    "×": "x",
    "±": "+/-",
    "÷": "/",
    "≤": "<=",
    "≥": ">=",
    "≈": "~",
    "½": "1/2",
    "¼": "1/4",
    "¾": "3/4",
    # the box of an eyewear frame's size (ISO 8624: lens width □ bridge, "49□21"), written "49-21" in plain text
    "□": "-",
    "₽": "руб.",
    "€": "EUR",
    # letters without a decomposition to a base letter
    "Ø": "O",
    "ø": "o",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Æ": "AE",
    "æ": "ae",
    "Œ": "OE",
    "œ": "oe",
    "ß": "ss",
    "ı": "i",
}


@dataclass(frozen=True)
class Substitution:
    """One character the policy replaced in a text (``to`` empty: removed), and how many times."""

    char: str
    to: str
    count: int

    def warning(self, field: str) -> dict[str, object]:
        """The answer's warning for it: the field's path, the character, its code point, what was printed."""
        return {
            "code": "text_replaced",
            "field": field,
            "from": self.char,
            "to": self.to,
            "code_point": code_point(self.char),
            "count": self.count,
        }


@dataclass(frozen=True)
class Normalized:
    """A text under the ``normalize`` policy: what is printed, what was replaced, and what cannot be (distinct,
    in order of first appearance)."""

    text: str
    substitutions: tuple[Substitution, ...]
    refused: tuple[str, ...]


def code_point(char: str) -> str:
    """``U+00AB``."""
    return f"U+{ord(char):04X}"


def shown(char: str) -> str:
    """A character as a person can read it in a message: ``'«' (U+00AB)``, ``'\\t' (U+0009)``."""
    return f"{char!r} ({code_point(char)})"


def in_cp866(char: str) -> bool:
    """Whether a fiscal drive stores ``char`` as it is: a printable character of CP866."""
    if unicodedata.category(char) == "Cc":
        return False
    try:
        char.encode(FISCAL_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _replacement(char: str) -> str | None:
    """What ``normalize`` prints for ``char`` (``""``: nothing), or ``None`` when it cannot be printed."""
    if char in REPLACEMENTS:
        return REPLACEMENTS[char]
    if char.isspace():
        return " "
    category = unicodedata.category(char)
    if category == "Cf":
        return ""  # invisible: zero-width spaces and joiners, soft hyphen, BOM, direction marks
    if category in ("Cc", "Cs", "Co", "Cn"):
        return None
    base = "".join(part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part))
    if base and all(in_cp866(part) for part in base):
        return base
    return None


def normalize_fiscal_text(value: str) -> Normalized:
    """``value`` under the ``normalize`` policy."""
    if value.isascii() and value.isprintable():
        return Normalized(value, (), ())  # the usual name: nothing to look at
    out: list[str] = []
    counts: dict[str, int] = {}
    targets: dict[str, str] = {}
    refused: dict[str, None] = {}
    for char in value:
        if (char != " " and char.isspace()) or not in_cp866(char):
            to = _replacement(char)
            if to is None:
                refused[char] = None
                continue
            counts[char] = counts.get(char, 0) + 1
            targets[char] = to
            out.append(to)
        else:
            out.append(char)
    substitutions = tuple(Substitution(char, targets[char], count) for char, count in counts.items())
    return Normalized("".join(out), substitutions, tuple(refused))


def _listed(chars: Iterable[str]) -> str:
    return ", ".join(shown(char) for char in chars)


def fiscal_text_problem(field: str, value: str) -> str | None:
    """Why ``value`` cannot be printed even under ``normalize`` (naming ``field`` and every such character, and the
    replacements the others would get), or ``None``."""
    normalized = normalize_fiscal_text(value)
    if not normalized.refused:
        return None
    problem = (
        f"{field}: cannot be stored by a fiscal drive (CP866) and has no replacement: {_listed(normalized.refused)}"
    )
    if normalized.substitutions:
        replaced = ", ".join(f"{shown(s.char)} → {s.to!r}" for s in normalized.substitutions)
        problem += f" (would be replaced: {replaced})"
    return problem


def strict_text_problem(field: str, value: str) -> str | None:
    """Why ``value`` cannot be printed as sent under ``strict``: every character outside CP866 (or whitespace
    other than the space), or ``None``."""
    normalized = normalize_fiscal_text(value)
    offending = {s.char: None for s in normalized.substitutions} | dict.fromkeys(normalized.refused)
    if not offending:
        return None
    ordered = sorted(offending, key=value.index)
    return (
        f"{field}: the strict text policy prints only what a fiscal drive stores as sent (CP866, the space as the "
        f"only blank): {_listed(ordered)}"
    )


def text_warnings(as_sent: Mapping[str, str]) -> list[dict[str, object]]:
    """The answer's warnings for the texts normalized (by field path, as sent): one per field and character."""
    return [
        substitution.warning(field)
        for field, text in as_sent.items()
        for substitution in normalize_fiscal_text(text).substitutions
    ]
