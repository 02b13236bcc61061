"""The package's public surface: the names ``kkt_emulators`` exports, each resolvable, none costly to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kkt_emulators

EXPECTED = [
    "DOC_CORRECTION",
    "DOC_RECEIPT",
    "DOC_REGISTRATION",
    "DOC_SHIFT_CLOSING",
    "DOC_SHIFT_OPENING",
    "Clock",
    "CorrectionTask",
    "DeviceError",
    "DeviceNotFound",
    "DeviceOffline",
    "DeviceStatus",
    "EmulatedKKT",
    "FNArchiveFull",
    "FNBlocked",
    "FNExpired",
    "FNOfdTimeout",
    "FNStatus",
    "FiscalDocument",
    "InvalidTask",
    "ManualClock",
    "MockAtolServer",
    "MockOFDServer",
    "MockOdooServer",
    "MockShtrihServer",
    "PaperOut",
    "ReceiptTask",
    "Registration",
    "ShiftAlreadyOpen",
    "ShiftExpired",
    "ShiftNotOpen",
    "ShiftReport",
    "SystemClock",
    "TaskItem",
]


def test_all_is_the_expected_sorted_list() -> None:
    """``__all__`` lists exactly the public names, sorted as the linter sorts it (constants first, then classes)."""
    assert kkt_emulators.__all__ == EXPECTED
    assert sorted(EXPECTED, key=lambda name: (not name.isupper(), name)) == EXPECTED


def test_every_exported_name_resolves_and_is_listed_by_dir() -> None:
    """Each name in ``__all__`` is an attribute of the package (loaded on first use) and appears in ``dir()``."""
    for name in kkt_emulators.__all__:
        assert getattr(kkt_emulators, name) is not None, name
    assert set(kkt_emulators.__all__) <= set(dir(kkt_emulators))


def test_exported_names_are_the_defining_modules_objects() -> None:
    """The package re-exports the very objects of the modules that define them, not copies."""
    from kkt_clock import ManualClock
    from kkt_emulators.atol import MockAtolServer
    from kkt_emulators.device import EmulatedKKT
    from kkt_emulators.odoo import MockOdooServer
    from kkt_emulators.ofd import MockOFDServer

    assert kkt_emulators.MockOFDServer is MockOFDServer
    assert kkt_emulators.MockOdooServer is MockOdooServer
    assert kkt_emulators.MockAtolServer is MockAtolServer
    assert kkt_emulators.EmulatedKKT is EmulatedKKT
    assert kkt_emulators.ManualClock is ManualClock


def test_the_servers_and_the_device_import_from_the_top() -> None:
    """``from kkt_emulators import MockOFDServer, MockOdooServer, EmulatedKKT`` works."""
    from kkt_emulators import EmulatedKKT, MockOdooServer, MockOFDServer

    assert (MockOFDServer.__name__, MockOdooServer.__name__, EmulatedKKT.__name__) == (
        "MockOFDServer",
        "MockOdooServer",
        "EmulatedKKT",
    )


def test_an_unknown_name_is_an_attribute_error_and_submodules_still_import() -> None:
    """A name not exported raises ``AttributeError``; submodules such as ``fiscal`` import as before."""
    with pytest.raises(AttributeError, match="NoSuchName"):
        kkt_emulators.NoSuchName  # noqa: B018
    from kkt_emulators import fiscal

    assert fiscal.is_valid_inn("7707083893")


def test_importing_the_package_imports_no_web_stack() -> None:
    """``import kkt_emulators`` loads neither the servers nor fastapi, starlette, uvicorn or httpx."""
    heavy = (
        "fastapi",
        "starlette",
        "uvicorn",
        "httpx",
        "kkt_emulators.ofd",
        "kkt_emulators.odoo",
        "kkt_emulators.atol",
    )
    code = f"import sys, kkt_emulators; print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
