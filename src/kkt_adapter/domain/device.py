"""What a KKT says about itself: online, paper, shift, last document, its FN; its shift report and FN status."""

from __future__ import annotations

from dataclasses import dataclass, field

from kkt_adapter.domain.fiscal import FiscalResult

#: Document types (FFD tag 1000).
DOC_REGISTRATION = 1
DOC_SHIFT_OPENING = 2
DOC_RECEIPT = 3
DOC_SHIFT_CLOSING = 5
DOC_CORRECTION = 31
DOC_TYPE_NAMES = {
    DOC_REGISTRATION: "registration",
    DOC_SHIFT_OPENING: "shift_opening",
    DOC_RECEIPT: "receipt",
    DOC_SHIFT_CLOSING: "shift_closing",
    DOC_CORRECTION: "correction",
}

#: The name of the one device the single-device settings describe (and of the primary in older buffers).
DEFAULT_DEVICE = "main"


@dataclass(frozen=True)
class DeviceState:
    """What the device says about itself."""

    online: bool
    paper: bool
    shift_open: bool
    shift_number: int
    shift_expired: bool
    last_fd_number: int
    fn_number: str
    kkt_number: str
    shift_expires_at: float | None = None
    fn_blocked: str | None = None
    fn_warnings: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Whether a receipt could be printed now."""
        return self.problem is None

    @property
    def problem(self) -> str | None:
        """Why the device cannot print, in the cashier's words, or ``None``.

        An expired shift is not listed: under ``KKT_SHIFT_EXPIRED_POLICY=auto`` the next sale closes and reopens it;
        health judges it by the policy.
        """
        if not self.online:
            return "device offline"
        if not self.paper:
            return "paper out"
        if self.fn_blocked:
            return f"fiscal drive refuses documents: {self.fn_blocked}"
        return None


@dataclass(frozen=True)
class ShiftReport:
    """The shift's counters and totals, as an X report shows them (and as they stood when a Z report closed it)."""

    shift_number: int
    open: bool
    opened_at: str | None
    expires_at: str | None
    expired: bool
    receipts: int
    documents: int
    totals_by_operation: dict[str, int] = field(default_factory=dict)
    counts_by_operation: dict[str, int] = field(default_factory=dict)
    totals_by_payment: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FNStatus:
    """The fiscal drive's life and its exchange with the OFD."""

    fn_number: str
    validity_date: str | None
    ffd_version: str
    documents_count: int
    unsent_count: int
    first_unsent_fd_number: int | None
    first_unsent_at: str | None
    warnings: tuple[str, ...] = ()
    blocked: str | None = None


@dataclass(frozen=True)
class JournalEntry:
    """One document of the device's journal, with the request key the device recorded (``None`` if it had none)."""

    result: FiscalResult
    key: str | None
