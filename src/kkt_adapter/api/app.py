"""``create_app(settings)``: the FastAPI application with its lifespan (open, reconcile, serve, close)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kkt_adapter import __version__
from kkt_adapter.api import errors, routes
from kkt_adapter.bootstrap import Adapter, build
from kkt_adapter.config import Settings
from kkt_adapter.drivers.base import FiscalDriver
from kkt_clock import Clock


def create_app(settings: Settings, *, clock: Clock | None = None, driver: FiscalDriver | None = None) -> FastAPI:
    """Build the app; the buffer and device open when it starts and close when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        adapter: Adapter = await asyncio.to_thread(build, settings, clock=clock, driver=driver)
        try:
            await asyncio.to_thread(adapter.fiscalizer.reconcile)
            await adapter.start()
            app.state.adapter = adapter
            try:
                yield
            finally:
                await adapter.stop()
        finally:
            await asyncio.to_thread(adapter.close)

    app = FastAPI(
        title="kkt-adapter",
        version=__version__,
        description="Offline-first 54-FZ fiscalization adapter: print at once, deliver to the OFD in the background.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(routes.router)
    return app
