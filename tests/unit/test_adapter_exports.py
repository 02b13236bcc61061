"""The public surface of ``kkt_adapter`` and ``kkt_adapter.testing``: exactly the names users compose, loaded lazily."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import ModuleType

import pytest

import kkt_adapter
import kkt_adapter.testing

SURFACES: list[tuple[ModuleType, list[str]]] = [
    (kkt_adapter, ["ConfigError", "Settings", "__version__", "create_app", "load_settings"]),
    (kkt_adapter.testing, ["AdapterProcess", "FakeClock", "FakeDriver", "bodies", "wait_for"]),
]


def _ids(surface: tuple[ModuleType, list[str]]) -> str:
    return surface[0].__name__


@pytest.mark.parametrize("surface", SURFACES, ids=_ids)
def test_all_is_exactly_the_public_surface(surface: tuple[ModuleType, list[str]]) -> None:
    """``__all__`` lists exactly the expected names, so any change to the public surface is deliberate."""
    module, expected = surface
    assert module.__all__ == expected


@pytest.mark.parametrize("surface", SURFACES, ids=_ids)
def test_every_exported_name_resolves(surface: tuple[ModuleType, list[str]]) -> None:
    """Each name in ``__all__`` is an attribute of the module (lazy names are imported on access)."""
    module, _ = surface
    for name in module.__all__:
        assert getattr(module, name) is not None, name


@pytest.mark.parametrize("surface", SURFACES, ids=_ids)
def test_dir_lists_every_exported_name(surface: tuple[ModuleType, list[str]]) -> None:
    """``dir()`` shows the exported names, including those not imported yet."""
    module, _ = surface
    assert set(module.__all__) <= set(dir(module))


def test_exports_are_the_defining_modules_objects() -> None:
    """The package's names are the very objects of the modules that define them, not copies."""
    from kkt_adapter.api.app import create_app
    from kkt_adapter.config import ConfigError, Settings, load_settings
    from kkt_adapter.testing.process import AdapterProcess

    assert kkt_adapter.create_app is create_app
    assert kkt_adapter.Settings is Settings
    assert kkt_adapter.load_settings is load_settings
    assert kkt_adapter.ConfigError is ConfigError
    assert kkt_adapter.testing.AdapterProcess is AdapterProcess


def test_an_unknown_name_is_an_attribute_error() -> None:
    """A name the package does not export raises ``AttributeError``, as for any module."""
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = kkt_adapter.no_such_name


def test_testing_is_not_reexported_at_the_top() -> None:
    """Test helpers are reached as ``kkt_adapter.testing``, never as top-level names of the package."""
    assert not set(kkt_adapter.__all__) & set(kkt_adapter.testing.__all__)
    assert "testing" not in kkt_adapter.__all__


def _loaded_after(code: str) -> list[str]:
    """The modules of interest in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = textwrap.dedent(
        """
        import sys
        {code}
        heavy = ("fastapi", "starlette", "uvicorn", "sqlite3", "pydantic", "kkt_emulators", "kkt_adapter.")
        print("\\n".join(sorted(name for name in sys.modules if name.startswith(heavy))))
        """
    ).format(code=code)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return result.stdout.split()


def test_importing_the_package_loads_nothing_heavy() -> None:
    """``import kkt_adapter`` loads no submodule, web framework, SQLite, pydantic or emulator."""
    assert _loaded_after("import kkt_adapter; kkt_adapter.__version__") == []


def test_a_lazy_name_loads_only_its_own_module() -> None:
    """Reading ``kkt_adapter.load_settings`` imports the configuration, not the web app or the emulators."""
    loaded = _loaded_after("import kkt_adapter; kkt_adapter.load_settings")
    assert "kkt_adapter.config" in loaded
    assert not [name for name in loaded if name.startswith(("fastapi", "kkt_adapter.api", "kkt_emulators"))]


def test_importing_the_test_helpers_loads_neither_the_web_framework_nor_the_emulators() -> None:
    """``import kkt_adapter.testing`` stays usable by a project that has no emulators or app in its process."""
    loaded = _loaded_after("import kkt_adapter.testing")
    assert not [name for name in loaded if name.startswith(("fastapi", "starlette", "uvicorn", "kkt_emulators"))]
