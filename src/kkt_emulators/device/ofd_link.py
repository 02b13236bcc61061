"""The emulated KKT's own exchange with the OFD, as a real fiscal drive does it: it sends its documents itself.

A background thread takes the documents the OFD has not acknowledged, oldest first (FD order), posts each to an OFD
that speaks the mock OFD's receive API (``POST {url}/ofd/v1/receipt`` with ``{"receipt_id", "pos_id",
"fiscal_document"}`` and an ``Idempotency-Key``; see ``docs/emulators.md``), and on the OFD's acknowledgement marks
it acknowledged in the device, so that the FN's unsent count and first unsent document move on. A document is never
skipped: when the OFD is down or refuses one, the pass stops there and the link retries after a backoff that doubles
from ``interval_s`` up to ``max_backoff_s``. A resend after a lost answer is safe: the OFD acknowledges a document it
already has as a duplicate.

Example::

    with EmulatedKKT(path, print_delay_ms=0) as kkt, MockOFDServer(port=0) as ofd:
        with OfdLink(kkt, ofd.url, interval_s=0.05):
            ...  # documents printed meanwhile reach the OFD, and kkt.fn_status().unsent_count falls to 0
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

import httpx

from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import FiscalDocument

RECEIPT_PATH = "/ofd/v1/receipt"
DEFAULT_INTERVAL_S = 1.0
DEFAULT_MAX_BACKOFF_S = 30.0
DEFAULT_BATCH = 100


class OfdRefused(Exception):
    """The OFD did not acknowledge a document (down, an error, or no acknowledgement in its answer)."""


class OfdLink:
    """Sends ``kkt``'s unacknowledged documents to the OFD at ``ofd_url`` from a background thread; stoppable.

    ``interval_s`` is the pause between passes when all is sent (and the first backoff); ``transport`` lets a test
    give httpx a transport of its own.
    """

    def __init__(
        self,
        kkt: EmulatedKKT,
        ofd_url: str,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        timeout_s: float = 5.0,
        batch: int = DEFAULT_BATCH,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if interval_s <= 0 or max_backoff_s < interval_s:
            raise ValueError("interval_s must be positive and max_backoff_s at least interval_s")
        self.kkt = kkt
        self.ofd_url = ofd_url.rstrip("/")
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self._batch = batch
        self._http = httpx.Client(timeout=timeout_s, transport=transport, headers={"User-Agent": "emulated-fn"})
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._sent = 0
        self._failures = 0
        self._last_error: str | None = None

    # Lifecycle ---------------------------------------------------------------------------------------------------

    def start(self) -> OfdLink:
        """Start sending in a background thread."""
        if self._thread is not None:
            raise RuntimeError("the OFD link starts once")
        self._thread = threading.Thread(target=self._loop, name="kkt-ofd-link", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the document in flight, if any; idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._http.close()

    def wake(self) -> None:
        """Send now instead of after the pause (a new document was printed)."""
        self._wake.set()

    def __enter__(self) -> OfdLink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Sending -----------------------------------------------------------------------------------------------------

    def send_pending(self) -> int:
        """One pass: send the unacknowledged documents in FD order until all are sent; how many were acknowledged.

        Raises :class:`OfdRefused` (or an ``httpx.HTTPError``) at the first document not acknowledged.
        """
        sent = 0
        while not self._stop.is_set():
            documents = self.kkt.unsent_documents(limit=self._batch)
            if not documents:
                return sent
            for doc in documents:
                if self._stop.is_set():
                    return sent
                self._send(doc)
                self.kkt.acknowledge([doc.fd_number])
                sent += 1
                with self._lock:
                    self._sent += 1
        return sent

    def _send(self, doc: FiscalDocument) -> None:
        body = {
            "receipt_id": f"fd-{doc.fn_number}-{doc.fd_number}",
            "pos_id": f"kkt-{doc.kkt_reg_number}",
            "fiscal_document": doc.tags,
        }
        key = f"{doc.fn_number}:{doc.fd_number}"
        response = self._http.post(f"{self.ofd_url}{RECEIPT_PATH}", json=body, headers={"Idempotency-Key": key})
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict) or answer.get("status") != "accepted":
            raise OfdRefused(f"FD {doc.fd_number}: HTTP {response.status_code}: {response.text[:200]}")

    def _loop(self) -> None:
        backoff = self.interval_s
        while not self._stop.is_set():
            try:
                self.send_pending()
            except (OfdRefused, httpx.HTTPError) as exc:
                with self._lock:
                    self._failures += 1
                    self._last_error = f"{type(exc).__name__}: {exc}"
                pause, backoff = backoff, min(backoff * 2, self.max_backoff_s)
            else:
                pause = backoff = self.interval_s
                with self._lock:
                    self._last_error = None
            self._wake.wait(pause)
            self._wake.clear()

    # Reading -----------------------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Documents acknowledged, failed passes, the last error (None after a good pass)."""
        with self._lock:
            return {"sent": self._sent, "failed_passes": self._failures, "last_error": self._last_error}
