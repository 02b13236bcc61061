"""Prometheus metrics (``GET /metrics``), all prefixed ``kkt_``.

Counters and the OFD latency histogram are counted as things happen in this process; buffer and breaker gauges
are read at scrape time from the buffer's O(1) counters, so a restart never shows a wrong occupancy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

BREAKER_STATES = ("CLOSED", "OPEN", "HALF_OPEN")
HEARTBEAT_STATES = ("UNKNOWN", "ONLINE", "OFFLINE")


class Metrics:
    """The adapter's metrics in a registry of its own (one per app, so tests never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.accepted = Counter(
            "kkt_receipts_accepted", "Receipt requests accepted for printing", registry=self.registry
        )
        self.printed = Counter("kkt_receipts_printed", "Receipts printed by the KKT", registry=self.registry)
        self.print_failed = Counter(
            "kkt_receipts_print_failed", "Prints refused by the KKT (nothing printed)", registry=self.registry
        )
        self.synced = Counter("kkt_receipts_synced", "Receipts acknowledged by the OFD", registry=self.registry)
        self.dead_lettered = Counter(
            "kkt_receipts_dead_lettered", "Receipts moved to the dead-letter queue", registry=self.registry
        )
        self.restored = Counter(
            "kkt_documents_restored",
            "Documents restored from the KKT's journal into the buffer at start (a lost or damaged buffer file)",
            registry=self.registry,
        )
        # Several devices: what each one printed and refused, and the sales moved from one to the next.
        self.device_printed = Counter(
            "kkt_device_printed",
            "Documents printed for sales and corrections, by device",
            ["device"],
            registry=self.registry,
        )
        self.device_refusals = Counter(
            "kkt_device_refusals",
            "Prints a device refused before printing (nothing printed), by device and code",
            ["device", "code"],
            registry=self.registry,
        )
        self.failovers = Counter(
            "kkt_device_failovers",
            "Sales moved to the next device after a definite refusal",
            ["from_device", "to_device"],
            registry=self.registry,
        )
        self.ofd_latency = Histogram(
            "kkt_ofd_request_duration_seconds",
            "Duration of OFD requests, by outcome",
            ["outcome"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )

        #: The scrape-time state, refreshed by the ``/metrics`` route just before it renders the registry.
        self.latest: dict[str, Any] | None = None
        self.registry.register(_StateCollector(lambda: self.latest))


class _StateCollector(Collector):
    def __init__(self, snapshot: Callable[[], dict[str, Any] | None]) -> None:
        self.snapshot = snapshot

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self.snapshot()
        if state is None:
            return
        receipts = GaugeMetricFamily("kkt_buffer_receipts", "Receipts in the buffer by state", labels=["state"])
        for name, value in state["counts"].items():
            receipts.add_metric([name], value)
        yield receipts
        yield GaugeMetricFamily(
            "kkt_buffer_capacity", "Unsynced receipts at which sales are refused", value=state["capacity"]
        )
        yield GaugeMetricFamily(
            "kkt_buffer_occupancy_ratio", "Unsynced receipts / buffer max size", value=state["occupancy"]
        )
        yield GaugeMetricFamily(
            "kkt_oldest_unsynced_age_seconds",
            "Age of the oldest receipt the OFD has not acknowledged (0 when none)",
            value=state["oldest_unsynced_age_seconds"] or 0.0,
        )
        breaker = GaugeMetricFamily("kkt_circuit_breaker_state", "1 for the breaker's current state", labels=["state"])
        for name in BREAKER_STATES:
            breaker.add_metric([name], 1.0 if state["breaker_state"] == name else 0.0)
        yield breaker
        heartbeat = GaugeMetricFamily("kkt_heartbeat_state", "1 for the ERP link's current state", labels=["state"])
        for name in HEARTBEAT_STATES:
            heartbeat.add_metric([name], 1.0 if state["heartbeat_state"] == name else 0.0)
        yield heartbeat
        yield GaugeMetricFamily(
            "kkt_device_usable", "1 when the KKT can print", value=1.0 if state["device_ok"] else 0.0
        )
        devices = state.get("devices") or []
        if devices:
            up = GaugeMetricFamily("kkt_device_up", "1 when the device can print, by device", labels=["device"])
            unsent = GaugeMetricFamily(
                "kkt_device_fn_unsent_documents",
                "Documents the device's fiscal drive has not had acknowledged by the OFD (as last read), by device",
                labels=["device"],
            )
            for device in devices:
                up.add_metric([device["name"]], 1.0 if device["usable"] else 0.0)
                if device["unsent_count"] is not None:
                    unsent.add_metric([device["name"]], device["unsent_count"])
            yield up
            yield unsent
        fn = state.get("fn") or {}
        if fn.get("unsent_count") is not None:  # absent until the device's first answer
            yield GaugeMetricFamily(
                "kkt_fn_unsent_documents",
                "Documents the fiscal drive has not had acknowledged by the OFD (as last read from the KKT)",
                value=fn["unsent_count"],
            )
            yield GaugeMetricFamily(
                "kkt_fn_first_unsent_age_seconds",
                "Age of the fiscal drive's first unsent document, by its date on the KKT (0 when none)",
                value=fn["first_unsent_age_seconds"] or 0.0,
            )
