"""``python -m kkt_adapter.cli``: the same as the ``kkt-adapter`` command."""

from __future__ import annotations

from kkt_adapter.cli import main

main()
