"""What a KKT says about itself: online, paper, shift, last document, its FN and registration numbers."""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def usable(self) -> bool:
        """Whether a receipt could be printed now."""
        return self.online and self.paper and not self.shift_expired

    @property
    def problem(self) -> str | None:
        """Why the device cannot print, in the cashier's words, or ``None``."""
        if not self.online:
            return "device offline"
        if not self.paper:
            return "paper out"
        if self.shift_expired:
            return "shift open for more than 24 hours: close the shift (Z report)"
        return None
