"""A chain of stores on one machine: N ``kkt-adapter serve`` processes on loopback, each with its own emulated KKT and
embedded mock OFD, and the Prometheus configuration that watches them (a file-based service discovery target list and
a ``prometheus.yml`` that loads the alert rules).

Used by ``kkt-adapter fleet`` and by the test that proves the rules on a real Prometheus.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kkt_adapter.testing.process import AdapterProcess, free_port

#: What every store of the fleet runs with: a quick printer, the FN's exchange status and each device's state read every
#: second (so a fault shows in the next scrape), quiet logs.
FLEET_ENV = {
    "KKT_MODE": "mock",
    "KKT_EMULATOR_PRINT_DELAY_MS": "20",
    "KKT_OFD_DEVICE_POLL_S": "1",
    "KKT_DEVICE_CHECK_INTERVAL": "1",
    "KKT_LOG_LEVEL": "WARNING",
}
#: Adapters started at once: each start is mostly waiting on imports and SQLite, two at a core keep the CPU busy.
START_PARALLEL = 4
#: The job name the alert rules expect (``up{job="kkt-adapter"}``).
JOB = "kkt-adapter"


@dataclass(frozen=True)
class Store:
    """One store of the fleet: its name, its till and its adapter."""

    name: str
    till: str
    adapter: AdapterProcess

    @property
    def target(self) -> str:
        """The adapter's address as Prometheus scrapes it (``host:port``)."""
        return self.adapter.url.removeprefix("http://")

    @property
    def device_dir(self) -> Path:
        """The emulated KKT's state directory (for ``kkt-adapter device --data-dir``)."""
        return self.adapter.data_dir / "kkt"


def ready_device(state_dir: Path) -> None:
    """A store's emulated KKT as one in use: registered, its shift open, every document so far acknowledged by the
    OFD. A brand-new device's registration report would otherwise be counted as restored at the adapter's first
    start, and every store would raise ``KktDocumentsRestored``."""
    from kkt_emulators import EmulatedKKT

    with EmulatedKKT(state_dir, print_delay_ms=0) as kkt:
        if not kkt.status().shift_open:
            kkt.open_shift()
        kkt.acknowledge(document.fd_number for document in kkt.journal(limit=1_000_000))


class Fleet:
    """``stores`` adapters under ``root`` (one directory each), on ports from ``base_port`` (free ports without it).
    A store whose device directory does not exist yet gets a device ready for sales (:func:`ready_device`).

    ``env`` is added to every store's environment, ``store_env[i]`` to store ``i``'s (numbered from 0).
    """

    def __init__(
        self,
        root: Path,
        stores: int,
        *,
        base_port: int | None = None,
        env: Mapping[str, str] | None = None,
        store_env: Mapping[int, Mapping[str, str]] | None = None,
    ) -> None:
        if stores < 1:
            raise ValueError(f"a fleet has at least one store, not {stores}")
        self.root = root
        self.stores: list[Store] = []
        for index in range(stores):
            name, till = f"store-{index + 1:03d}", "1"
            values = FLEET_ENV | {"KKT_STORE": name, "KKT_TILL": till, "KKT_ADAPTER_ID": f"{name}-till-{till}"}
            values |= dict(env or {}) | dict((store_env or {}).get(index, {}))
            port = free_port() if base_port is None else base_port + index
            adapter = AdapterProcess(root / name, port=port, env=values, log_path=root / f"{name}.log")
            self.stores.append(Store(name, till, adapter))

    def start(self, *, timeout: float = 120.0) -> None:
        """Start every adapter (a few at a time) and return once each answers; on a failure stop them all."""
        self.root.mkdir(parents=True, exist_ok=True)
        for store in self.stores:
            if not store.device_dir.exists():
                ready_device(store.device_dir)
        try:
            with ThreadPoolExecutor(max_workers=START_PARALLEL) as pool:
                for _ in pool.map(lambda store: store.adapter.start(timeout=timeout), self.stores):
                    pass
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every adapter that runs (SIGTERM, then SIGKILL after 10 s)."""
        with ThreadPoolExecutor(max_workers=START_PARALLEL * 2) as pool:
            list(pool.map(lambda store: store.adapter.stop(), self.stores))

    @property
    def pids(self) -> list[int]:
        """The running adapters' process ids."""
        return [store.adapter.pid for store in self.stores if store.adapter.running and store.adapter.pid]

    def write_prometheus(
        self,
        *,
        rules: Sequence[Path] = (),
        scrape_interval: str = "15s",
        evaluation_interval: str = "15s",
        directory: Path | None = None,
    ) -> Path:
        """Write ``targets.json`` (file-based service discovery, one target per store) and a ``prometheus.yml`` that
        scrapes them as job ``kkt-adapter`` and loads ``rules``; returns the configuration's path."""
        directory = directory or self.root
        directory.mkdir(parents=True, exist_ok=True)
        targets = directory / "targets.json"
        entries = [{"targets": [store.target], "labels": {"till_id": f"{store.name}/{store.till}"}} for store in self]
        targets.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
        config = directory / "prometheus.yml"
        rule_lines = "".join(f"  - {json.dumps(str(path.resolve()))}\n" for path in rules)
        config.write_text(
            "# Written by kkt-adapter fleet: scrape every store's adapter and load the kkt-adapter alert rules.\n"
            "global:\n"
            f"  scrape_interval: {scrape_interval}\n"
            f"  scrape_timeout: {scrape_interval}\n"
            f"  evaluation_interval: {evaluation_interval}\n"
            f"rule_files:{'' if rules else ' []'}\n"
            f"{rule_lines}"
            "scrape_configs:\n"
            f"  - job_name: {JOB}\n"
            "    file_sd_configs:\n"
            f"      - files: [{json.dumps(str(targets.resolve()))}]\n"
            "        refresh_interval: 30s\n",
            encoding="utf-8",
        )
        return config

    def __iter__(self) -> Iterator[Store]:
        return iter(self.stores)

    def __len__(self) -> int:
        return len(self.stores)
