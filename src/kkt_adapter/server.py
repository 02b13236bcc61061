"""Serve the adapter under uvicorn (``kkt-adapter serve``); SIGINT and SIGTERM stop it cleanly."""

from __future__ import annotations

import uvicorn

from kkt_adapter.api.app import create_app
from kkt_adapter.config import Settings
from kkt_adapter.logs import configure_logging


def run(settings: Settings) -> None:
    """Run the adapter until interrupted."""
    configure_logging(settings)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
