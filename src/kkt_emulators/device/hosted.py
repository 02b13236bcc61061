"""The emulated KKT a protocol server stands in front of (the ATOL and the Shtrih-M emulators): the one it was given,
left open for its owner, or one it opened itself under a directory or in a temporary one, closed (and the temporary
directory removed) when the server lets it go."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kkt_clock import Clock
from kkt_emulators.device.kkt import EmulatedKKT


class HostedDevice:
    """``kkt`` if given, else a device under ``data_dir``, else one in a new temporary directory named ``prefix...``."""

    def __init__(
        self,
        kkt: EmulatedKKT | None,
        *,
        data_dir: Path | None,
        prefix: str,
        print_delay_ms: int,
        clock: Clock,
    ) -> None:
        self._temp_dir: Path | None = None
        self._owned = kkt is None
        if kkt is None:
            if data_dir is None:
                data_dir = self._temp_dir = Path(tempfile.mkdtemp(prefix=prefix))
            kkt = EmulatedKKT(Path(data_dir), print_delay_ms=print_delay_ms, clock=clock)
        self.kkt = kkt

    def release(self) -> None:
        """Close the device if it was opened here and remove its temporary directory; a second call does nothing."""
        if self._owned:
            self._owned = False
            self.kkt.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
