"""The driver's own record of idempotency keys: the FN stores none, so the key of each print is kept beside the
device state, written before the print (with the FN's last FD number then) and after it (with the document).

Why a file and not only the FN: after a restart the adapter asks :meth:`find_by_key`; the FN can only answer "what
is document N", never "which document had key K". The file says which N to ask about, and the FN decides: a record
is trusted only when the FN's document under that number has the same type, operation and total. A record "printing"
without its document (the process died mid-print) is settled from the FN by the first document after its recorded
number. The file is append-only JSON lines; the last record of a key wins.

Which records are fsynced, and why the others need not be:

- ``printing`` is fsynced before the document can be made (before the close command is sent): it is the only trace
  of a print that a power cut may interrupt, and its ``before_fd`` is read from the FN while the key's receipt is
  open, when no other document can be made, so the key's document, if made, is FD ``before_fd + 1``.
- ``refused`` is fsynced: lost, the key would be left ``printing``, and a document made later at ``before_fd + 1``
  by another program (or by a later print with the same type, operation and total) would be taken for the key's.
- ``printed`` is written and flushed to the system, not fsynced: a process that dies keeps it (the system has it);
  a power cut may lose it, and then the key's durable ``printing`` record is settled from the FN — FD
  ``before_fd + 1`` matching the key's type, operation and total is its document — to the same document (its FD
  number, fiscal sign, date-time and total; the shift and receipt numbers of the answer are then those the KKT
  reports at settlement, as FF0Ah does not give them). The next fsynced record of any key (the file is one inode)
  makes it durable anyway.
- ``unknown`` is fsynced: a ``printing`` record whose outcome the FN could not prove when the driver settled it
  before printing anything else (a document at ``before_fd + 1`` that is not the key's). Judged again after later
  prints, it could be taken for a later document; it stays unknown for a person to resolve.

A record left ``printing`` is settled before the driver sends anything that could make or cancel a document for
another key: while nothing else was printed the FN still tells whether the key's document was made (the driver's
next print would cancel a receipt left open and take ``before_fd + 1`` itself).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "shtrih-keys.jsonl"


@dataclass(frozen=True)
class KeyRecord:
    """One key's state: ``printing`` (with the last FD before it), ``printed`` (with its result), ``refused``, or
    ``unknown`` (the FN could not prove what became of it)."""

    key: str
    state: str
    before_fd: int | None = None
    result: dict[str, Any] | None = None
    doc_type: int = 3
    operation: int | None = None
    total_kop: int = 0


class KeyFile:
    """The key records of one device, in ``directory``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILE_NAME
        self._lock = threading.Lock()
        self._records: dict[str, KeyRecord] = {}
        #: The keys whose last record is ``printing`` (a handful at most: each is settled before the next print).
        self._pending: set[str] = set()
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    record = KeyRecord(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line cut by a crash mid-write: the record before it stands
                self._keep(record)

    def _keep(self, record: KeyRecord) -> None:
        self._records[record.key] = record
        if record.state == "printing":
            self._pending.add(record.key)
        else:
            self._pending.discard(record.key)

    def get(self, key: str) -> KeyRecord | None:
        """The key's last record."""
        with self._lock:
            return self._records.get(key)

    def printing(self) -> list[KeyRecord]:
        """The records left ``printing`` (a print whose end was not recorded)."""
        with self._lock:
            return [self._records[key] for key in sorted(self._pending)]

    def printed(self) -> list[KeyRecord]:
        """The records of documents printed."""
        with self._lock:
            return [record for record in self._records.values() if record.state == "printed"]

    def put(self, record: KeyRecord, *, durable: bool = True) -> None:
        """Append ``record``, flushed to the system; ``durable``: also fsynced before returning (see the module)."""
        line = json.dumps(record.__dict__, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
            self._keep(record)
