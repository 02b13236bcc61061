"""The ATOL emulator's admin routes (never behind its faults nor its Basic auth)::

    POST   /admin/faults   {"fault": "block", "printed": false, "polls": 2}   arm one fault program
    DELETE /admin/faults                                                     clear every fault (ends a block)
    GET    /admin/faults                                                     the armed faults
    GET    /admin/stats                                                      counters, jobs by state, queue
    POST   /admin/reset                                                      forget jobs and counters, clear faults

``fault`` names the Python method of :class:`~kkt_emulators.atol.faults.AtolFaults` and the other keys are its
arguments: ``in_progress`` (``polls``), ``lose_reply`` (``on``, ``times``), ``block`` (``printed``, ``polls``),
``paper_out``, ``cover_open``, ``disconnect``, ``connect``, ``down_for`` (``seconds``), ``clear``. A wrong name or
argument is answered 400 and arms nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kkt_emulators.atol.app import AtolCore, atol_json
from kkt_emulators.atol.faults import AtolFaults

PREFIX = "/admin"


class BadFault(ValueError):
    """An admin body that names no fault program or gives it a wrong argument."""


def _int(body: Mapping[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadFault(f"'{name}' must be a non-negative integer, got {value!r}")
    return value


def _flag(body: Mapping[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise BadFault(f"'{name}' must be true or false, got {value!r}")
    return value


def _seconds(body: Mapping[str, Any]) -> float:
    value = body.get("seconds")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadFault(f"'seconds' must be a non-negative number, got {value!r}")
    return float(value)


def programs(faults: AtolFaults) -> dict[str, Callable[[Mapping[str, Any]], None]]:
    """Fault name → function arming it from an admin body (raises :class:`BadFault` on a wrong argument)."""

    def lose_reply(body: Mapping[str, Any]) -> None:
        on = body.get("on", "post")
        if on not in ("post", "get"):
            raise BadFault(f"'on' must be 'post' or 'get', got {on!r}")
        faults.lose_reply(on, _int(body, "times", 1))

    return {
        "in_progress": lambda body: faults.in_progress(_int(body, "polls", 1)),
        "lose_reply": lose_reply,
        "block": lambda body: faults.block(_flag(body, "printed", True), _int(body, "polls", 1)),
        "paper_out": lambda body: faults.paper_out(),
        "cover_open": lambda body: faults.cover_open(),
        "disconnect": lambda body: faults.disconnect(),
        "connect": lambda body: faults.connect(),
        "down_for": lambda body: faults.down_for(_seconds(body)),
        "clear": lambda body: faults.clear(),
    }


def admin_routes(core: AtolCore) -> list[Route]:
    """The admin routes over ``core`` (see the module's docstring)."""
    faults = core.faults
    known = programs(faults)

    async def arm(request: Request) -> Response:
        try:
            body = await request.json()
            if not isinstance(body, Mapping):
                raise BadFault("the body must be a JSON object {'fault': name, ...}")
            setter = known.get(str(body.get("fault")))
            if setter is None:
                raise BadFault(f"unknown fault {body.get('fault')!r}; known: {', '.join(known)}")
            setter(body)
        except ValueError as exc:  # BadFault, a body that is not JSON, a value the program refuses
            return atol_json({"error": str(exc)}, 400)
        return atol_json({"status": "ok", "faults": faults.snapshot()})

    async def clear(request: Request) -> Response:
        faults.clear()
        return atol_json({"status": "ok", "faults": faults.snapshot()})

    async def read(request: Request) -> Response:
        return atol_json(faults.snapshot())

    async def stats(request: Request) -> Response:
        return atol_json(core.stats())

    async def reset(request: Request) -> Response:
        faults.clear()
        core.reset()
        return atol_json({"status": "ok"})

    return [
        Route(f"{PREFIX}/faults", arm, methods=["POST"]),
        Route(f"{PREFIX}/faults", clear, methods=["DELETE"]),
        Route(f"{PREFIX}/faults", read, methods=["GET"]),
        Route(f"{PREFIX}/stats", stats, methods=["GET"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
    ]
