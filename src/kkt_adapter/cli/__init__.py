"""The ``kkt-adapter`` command: ``serve`` the adapter; ``emulate`` and ``device`` drive the emulated outside world
(``device detect``, from the adapter's side, looks for a real KKT); ``demo`` plays a store's day against all of them.

The emulator package is imported only when a command needs it, so that a production ``serve`` never loads it
unless the settings ask for the emulated KKT or the embedded mock OFD.
"""

from __future__ import annotations

from kkt_adapter.cli.app import build_app, main

__all__ = ["build_app", "main"]
