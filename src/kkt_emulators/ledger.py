"""The mock OFD's memory: acknowledgements for dedupe, the order of FD numbers (and types) per FN, and a journal.

Nothing here locks or does I/O; the OFD core calls it under its own lock. Every structure is bounded, so that a
server answering 100,000 requests keeps flat memory: the journal keeps the last ``journal_size`` payloads (and counts
all of them), the dedupe ledger remembers the last ``capacity`` acknowledgements, and the per-FN sequence keeps only
the ranges of FD numbers still missing and a count per document type (the caller passes a bounded set of type names).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FnFd = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Ack:
    """The first acknowledgement of a document, returned again for every resend of it."""

    seq: int
    server_time_ms: int
    digest: bytes
    key: str | None
    fn_fd: FnFd | None

    @property
    def ofd_id(self) -> str:
        """The OFD's identifier of the document: ``OFD-000001``."""
        return f"OFD-{self.seq:06d}"

    @property
    def timestamp(self) -> str:
        """The acknowledgement's time, ISO 8601 UTC with milliseconds."""
        moment = datetime.fromtimestamp(self.server_time_ms / 1000, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def answer(self, *, duplicate: bool) -> dict[str, Any]:
        """The JSON body of the 200 answer."""
        body: dict[str, Any] = {
            "status": "accepted",
            "ofd_id": self.ofd_id,
            "timestamp": self.timestamp,
            "server_time": self.server_time_ms,
        }
        if duplicate:
            body["duplicate"] = True
        return body


class DedupeLedger:
    """Acknowledgements by (FN, FD number) and by idempotency key; forgets the oldest beyond ``capacity``.

    A fiscal document is identified by its FN (1041) and FD number (1040): when the body names them, they alone
    decide whether it was seen before. The idempotency key identifies only bodies without them (arbitrary JSON).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("ledger capacity must be at least 1")
        self._capacity = capacity
        self._by_key: dict[str, Ack] = {}
        self._by_fn_fd: dict[FnFd, Ack] = {}
        self._order: deque[Ack] = deque()

    def __len__(self) -> int:
        return len(self._order)

    def find(self, key: str | None, fn_fd: FnFd | None) -> Ack | None:
        """The acknowledgement of an earlier copy of this document, if any: by (FN, FD) when known, else by key."""
        if fn_fd is not None:
            return self._by_fn_fd.get(fn_fd)
        if key is not None:
            return self._by_key.get(key)
        return None

    def holder_of(self, key: str) -> Ack | None:
        """The acknowledgement last given to a document sent under ``key``, if any."""
        return self._by_key.get(key)

    def remember(self, ack: Ack) -> None:
        """Record a new document's acknowledgement, evicting the oldest one if full."""
        self._order.append(ack)
        if ack.key is not None:
            self._by_key[ack.key] = ack
        if ack.fn_fd is not None:
            self._by_fn_fd[ack.fn_fd] = ack
        while len(self._order) > self._capacity:
            old = self._order.popleft()
            if old.key is not None and self._by_key.get(old.key) is old:
                del self._by_key[old.key]
            if old.fn_fd is not None and self._by_fn_fd.get(old.fn_fd) is old:
                del self._by_fn_fd[old.fn_fd]


class FnSequence:
    """Arrival order of one FN's fiscal documents, every type: out-of-order arrivals, missing ranges, count by type."""

    def __init__(self) -> None:
        self.documents = 0
        self.by_type: dict[str, int] = {}
        self.out_of_order = 0
        self.first_fd: int | None = None
        self.last_fd: int | None = None
        # Sorted, disjoint, inclusive [low, high] ranges of FD numbers not received yet.
        self._gap_lows: list[int] = []
        self._gap_highs: list[int] = []

    def arrive(self, fd: int, doc_type: str = "unknown") -> None:
        """Note the arrival of a new (not duplicate) document numbered ``fd``, of type ``doc_type`` (tag 1000)."""
        self.documents += 1
        self.by_type[doc_type] = self.by_type.get(doc_type, 0) + 1
        if self.first_fd is None or self.last_fd is None:
            self.first_fd = self.last_fd = fd
            return
        if fd > self.last_fd:
            if fd > self.last_fd + 1:
                self._gap_lows.append(self.last_fd + 1)
                self._gap_highs.append(fd - 1)
            self.last_fd = fd
            return
        self.out_of_order += 1
        if fd < self.first_fd:
            if fd < self.first_fd - 1:
                self._gap_lows.insert(0, fd + 1)
                self._gap_highs.insert(0, self.first_fd - 1)
            self.first_fd = fd
            return
        self._fill(fd)

    def _fill(self, fd: int) -> None:
        index = bisect.bisect_right(self._gap_lows, fd) - 1
        if index < 0 or fd > self._gap_highs[index]:
            return  # already received (a resend the ledger had forgotten)
        low, high = self._gap_lows[index], self._gap_highs[index]
        del self._gap_lows[index], self._gap_highs[index]
        pieces = [(r_low, r_high) for r_low, r_high in ((low, fd - 1), (fd + 1, high)) if r_low <= r_high]
        for offset, (r_low, r_high) in enumerate(pieces):
            self._gap_lows.insert(index + offset, r_low)
            self._gap_highs.insert(index + offset, r_high)

    def gaps(self) -> list[list[int]]:
        """Missing FD numbers between the first and the last received, as inclusive ``[low, high]`` ranges."""
        return [[low, high] for low, high in zip(self._gap_lows, self._gap_highs, strict=True)]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready statistics."""
        gaps = self.gaps()
        return {
            "documents": self.documents,
            "by_type": dict(sorted(self.by_type.items(), key=_type_order)),
            "first_fd": self.first_fd,
            "last_fd": self.last_fd,
            "out_of_order": self.out_of_order,
            "gaps": gaps,
            "missing": sum(high - low + 1 for low, high in gaps),
        }


def _type_order(entry: tuple[str, int]) -> tuple[int, str]:
    code = entry[0]
    return (int(code), code) if code.isdigit() else (1 << 30, code)


class Journal:
    """The last ``size`` payloads, and the count of all that ever arrived."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("journal size must not be negative")
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self.total = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._items)

    @property
    def size(self) -> int:
        """How many payloads are kept at most."""
        return self._items.maxlen or 0

    def last(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The kept payloads, oldest first: the last ``limit`` of them, or all with no (or a zero) limit."""
        items = list(self._items)
        return items[-limit:] if limit else items

    def as_dict(self) -> dict[str, int]:
        """Its size, how many payloads it keeps now and how many ever arrived, as the statistics show them."""
        return {"size": self.size, "kept": len(self._items), "total": self.total}

    def append(self, item: dict[str, Any]) -> None:
        """Keep ``item`` (dropping the oldest when full) and count it."""
        self.total += 1
        if self.size:
            self._items.append(item)

    def clear(self) -> None:
        """Forget every payload and reset the count."""
        self._items.clear()
        self.total = 0
