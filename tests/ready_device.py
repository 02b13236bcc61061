"""A device already in use: registered, its shift open, and every document so far acknowledged by the OFD; and
readers of an emulated device's journal and FN, for every suite.

Tests about receipts and their delivery start from it, so that the only documents they see are the receipts they
print (a brand-new device would also deliver its registration report and the day's first shift opening).
"""

from __future__ import annotations

from pathlib import Path

from kkt_emulators import EmulatedKKT
from kkt_emulators.device import FiscalDocument


def ready_device(state_dir: Path) -> None:
    """Register a device in ``state_dir`` (if none), open its shift, and acknowledge everything it signed."""
    with EmulatedKKT(state_dir, print_delay_ms=0) as kkt:
        if not kkt.status().shift_open:
            kkt.open_shift()
        kkt.acknowledge(document.fd_number for document in kkt.journal(limit=1_000_000))


def journal(state_dir: Path) -> list[FiscalDocument]:
    """Every document the emulated device in ``state_dir`` signed, in FD order (safe while an adapter uses it)."""
    with EmulatedKKT(state_dir, print_delay_ms=0, create=False) as kkt:
        return kkt.journal(limit=1_000_000)


def fn_number(state_dir: Path) -> str:
    """The FN number of the emulated device in ``state_dir``."""
    with EmulatedKKT(state_dir, print_delay_ms=0, create=False) as kkt:
        return kkt.registration.fn_number
