"""Checks a start makes before it serves, so that a refusal is one line and its own exit status, not a traceback.

A device name whose KKT now has another FN than the one recorded for the name, while receipts bound to the name are
undecided (``accepted``), would settle them from the wrong journal and print them again on the client's resend: the
start is refused (:data:`kkt_adapter.server.EXIT_DEVICE`). Only names with undecided rows are asked (a start with
none opens no device here); a device that does not answer here is checked when it first answers, and prints nothing
until then (:mod:`~kkt_adapter.intake.device_start`).
"""

from __future__ import annotations

from kkt_adapter.bootstrap.devices import device_driver
from kkt_adapter.buffer.connection import Database
from kkt_adapter.buffer.device_fns import FnSeen, recorded_fn, undecided_rows
from kkt_adapter.config import BufferSettings, DeviceSettings, Settings
from kkt_adapter.intake.device_start import fn_changed_message
from kkt_clock import Clock, SystemClock


class StartRefused(Exception):
    """A start that must not go on; the message says what happened and what to do, in one line."""


def check_device_fns(settings: Settings, *, clock: Clock | None = None) -> None:
    """Raise :class:`StartRefused` when a configured name reaches another FN than its recorded one while rows bound to
    it are undecided (see the module's docstring)."""
    path = BufferSettings.of(settings).path
    if not path.exists():
        return
    configs = DeviceSettings.of(settings).devices
    db = Database(path)
    try:
        with db.read() as conn:
            known = {one.name: (recorded_fn(conn, one.name), undecided_rows(conn, one.name)) for one in configs}
    finally:
        db.close()
    for index, config in enumerate(configs):
        recorded, undecided = known[config.name]
        if recorded is None or undecided == 0:
            continue
        driver = device_driver(settings, index, clock or SystemClock())
        try:
            fn_number = driver.state().fn_number
        except Exception:  # not answering: it is checked when it first answers, and prints nothing before
            continue
        finally:
            driver.close()
        if fn_number != recorded:
            raise StartRefused(fn_changed_message(config.name, FnSeen(fn_number, recorded, undecided)))
