"""The configuration's error: a wrong value stops the start with the variable's name and what is allowed."""

from __future__ import annotations

from pydantic_core import ErrorDetails

#: The prefix of every variable; messages name variables with it.
ENV_PREFIX = "KKT_"


class ConfigError(Exception):
    """A configuration value is wrong; the message names each variable and what it allows."""


def describe(error: ErrorDetails) -> str:
    """One validation error as a line naming the variable (``KKT_...``) and what it allows."""
    location = [str(part) for part in error["loc"]]
    name = ENV_PREFIX + location[0].upper() if location else "configuration"
    for part in location[1:]:
        name += f"[{part}]" if part.isdigit() else f".{part}"
    message = error["msg"]
    got = error.get("input")
    # KKT_DEVICES is never echoed: it may carry a password.
    secret = bool(location) and location[0] == "devices"
    shown = "" if secret or isinstance(got, dict | list | tuple) or got is None else f" (got {got!r})"
    return f"{name}: {message}{shown}"
