"""Serve the adapter's app under uvicorn."""

from __future__ import annotations

from kkt_adapter.config import Settings


def run(settings: Settings) -> None:
    """Run the adapter until interrupted."""
    raise NotImplementedError
