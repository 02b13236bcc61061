"""``KKT_*`` variables the adapter does not know: a misspelled setting (``KKT_DRIVER=atol``) would otherwise be
ignored without a word, and a production till would run on a default it was told to change.

The names are read from the process environment and from the ``.env`` file the settings are read from; each unknown
one is described with the closest known name. In production an unknown name stops the start; in mock mode it is a
warning (tests and demos set variables of their own).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values

from kkt_adapter.config.errors import ENV_PREFIX


def known_names(fields: Iterable[str]) -> set[str]:
    """The variable names of the settings ``fields``."""
    return {f"{ENV_PREFIX}{name.upper()}" for name in fields}


def given_names(environ: Mapping[str, str], env_file: Path | None) -> set[str]:
    """The ``KKT_*`` names set in ``environ`` or in ``env_file`` (when it exists)."""
    names = {name.upper() for name in environ if name.upper().startswith(ENV_PREFIX)}
    if env_file is not None and env_file.is_file():
        names |= {name.upper() for name in dotenv_values(env_file) if name.upper().startswith(ENV_PREFIX)}
    return names


def unknown_variables(given: Iterable[str], known: set[str]) -> list[str]:
    """One line for each name of ``given`` that no setting has, naming the closest known one when there is one."""
    lines = []
    for name in sorted(set(given) - known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        lines.append(f"{name} is not a setting of kkt-adapter{hint}")
    return lines
