"""A device already in use: registered, its shift open, and every document so far acknowledged by the OFD.

Tests about receipts and their delivery start from it, so that the only documents they see are the receipts they
print (a brand-new device would also deliver its registration report and the day's first shift opening).
"""

from __future__ import annotations

from pathlib import Path

from kkt_emulators import EmulatedKKT


def ready_device(state_dir: Path) -> None:
    """Register a device in ``state_dir`` (if none), open its shift, and acknowledge everything it signed."""
    with EmulatedKKT(state_dir, print_delay_ms=0) as kkt:
        if not kkt.status().shift_open:
            kkt.open_shift()
        kkt.acknowledge(document.fd_number for document in kkt.journal(limit=1_000_000))
