"""kkt-adapter: an offline-first 54-FZ fiscalization adapter between a POS/ERP and a KKT cash register.

What a user composes is exported here: ``load_settings()`` reads a :class:`Settings` (a wrong value raises
:class:`ConfigError`), and ``create_app(settings)`` builds the ASGI application. Test helpers live in
:mod:`kkt_adapter.testing`.

The names are imported on first use, so ``import kkt_adapter`` loads neither the web framework nor the buffer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kkt_adapter.api.app import create_app
    from kkt_adapter.config import ConfigError, Settings, load_settings

__version__ = "0.1.0"

__all__ = ["ConfigError", "Settings", "__version__", "create_app", "load_settings"]

# Each public name and the module that defines it; read by ``__getattr__`` on first access.
_LAZY: dict[str, str] = {
    "ConfigError": "kkt_adapter.config",
    "Settings": "kkt_adapter.config",
    "create_app": "kkt_adapter.api.app",
    "load_settings": "kkt_adapter.config",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        # An AttributeError (not ImportError) lets ``from kkt_adapter import <submodule>`` fall back to the import.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
