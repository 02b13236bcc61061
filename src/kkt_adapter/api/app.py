"""``create_app(settings)``: the FastAPI application with its lifespan (open, reconcile, start, serve, stop, close)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kkt_adapter import __version__, bootstrap
from kkt_adapter.api import docs, errors, middleware, qr, routes, ui
from kkt_adapter.api.fast_receipt import FastReceipt
from kkt_adapter.api.json_body import UntypedJson
from kkt_adapter.bootstrap.announce import started_line
from kkt_adapter.config import Settings
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_adapter.runtime import Runtime
from kkt_clock import Clock

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    driver: FiscalDriver | None = None,
    drivers: Mapping[str, FiscalDriver] | None = None,
) -> FastAPI:
    """Build the app; the buffer and devices open when it starts and close when it stops. ``driver`` replaces the
    primary device's driver, ``drivers`` any device's by name."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Runtime() as runtime:
            adapter = await asyncio.to_thread(
                bootstrap.build, settings, runtime, clock=clock, driver=driver, drivers=drivers
            )
            runtime.on_close(lambda: asyncio.to_thread(adapter.close))
            await bootstrap.open_devices(adapter)
            await bootstrap.start(adapter)
            log.info(started_line(adapter))
            # The routes call the service only; the adapter's parts stay reachable for tests that look inside.
            app.state.adapter = adapter
            app.state.service = adapter.service
            yield

    app = FastAPI(
        title="kkt-adapter",
        version=__version__,
        description="Offline-first 54-FZ fiscalization adapter: print at once, deliver to the OFD in the background.",
        lifespan=lifespan,
        # Served by api/docs.py from installed files instead: FastAPI's own pages load their scripts from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    # The request rules read it on every receipt (the route and its short path alike).
    app.state.text_policy = settings.text_policy
    errors.install(app)
    app.add_middleware(FastReceipt)  # added first: innermost, behind every defence
    app.add_middleware(UntypedJson)  # a body without a JSON content type reaches the short path typed, or is refused
    middleware.install(app, settings)
    app.include_router(routes.router)
    app.include_router(qr.router)
    app.include_router(ui.router)
    app.include_router(docs.router)
    return app
