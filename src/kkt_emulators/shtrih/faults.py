"""The Shtrih-M emulator's fault programs: the line's (NAK, silence, a lost answer, a duplicated request, a dropped
connection, the stray FFh byte on TCP) and the device's (busy 50h, paper out before or while printing the close,
cover open) and the FN's (the shift over 24 h, the FN's life over, its archive full, the 30-day block). Counted faults
fire on the next N requests; switches stay until turned off (the shift over 24 h until the Z report that closes it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Any

COUNTED = ("nak", "silence", "lose_answer", "duplicate", "disconnect", "busy", "paper_out_in_close")
SWITCHES = ("paper_out", "cover_open", "shift_over_24h", "fn_expired", "fn_full", "ofd_30_days")


@dataclass
class ShtrihFaults:
    """What goes wrong next. ``take(name)`` consumes one of a counted fault."""

    nak: int = 0  # answer the next N request frames NAK, executing nothing
    silence: int = 0  # ignore the next N request frames entirely
    lose_answer: int = 0  # execute the next N requests and send no answer (v1: it waits for ENQ)
    duplicate: int = 0  # the line delivers the next N request frames twice
    disconnect: int = 0  # execute the next N requests, then drop the connection before answering
    busy: int = 0  # refuse the next N commands with 50h, executing nothing
    paper_out_in_close: int = 0  # the paper ends while printing the next N closes: the document is in the FN
    paper_out: bool = False  # no paper: printing commands refused with 6Bh
    cover_open: bool = False  # cover open: printing commands refused
    shift_over_24h: bool = False  # the open shift is past 24 h: mode 3, new documents refused 4Eh until the Z report
    fn_expired: bool = False  # the FN's life is over: new fiscal documents refused 05h
    fn_full: bool = False  # the FN's archive is full: new fiscal documents refused 06h
    ofd_30_days: bool = False  # the oldest unsent document waited over 30 days: new documents refused 15h
    tcp_noise: bool = True  # an FFh byte before each ACK on TCP, as some devices send
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, name: str) -> bool:
        """Whether the counted fault ``name`` fires now (and one fewer remains)."""
        with self._lock:
            left = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True

    def program(self, **changes: Any) -> None:
        """Set faults by name (``program(nak=2, paper_out=True)``); an unknown name is a ValueError."""
        known = {f.name for f in fields(self) if not f.name.startswith("_")}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown Shtrih fault {name!r}; known: {', '.join(sorted(known))}")
            setattr(self, name, int(value) if name in COUNTED else bool(value))

    def clear(self) -> None:
        """No faults (the stray TCP byte stays as it was: it is the device's habit, not a fault)."""
        self.program(**{name: 0 for name in COUNTED}, **{name: False for name in SWITCHES})

    def as_dict(self) -> dict[str, Any]:
        """The program as JSON-safe values."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
