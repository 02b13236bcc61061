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
#: The fault codes every device reports, 0 or 1, so that a rule sees a series before the first fault.
KNOWN_FAULTS = ("offline", "paper_out", "cover_open", "fn_blocked", "shift_expired")
#: The FN's warnings (FFD tags 1050–1053), 0 or 1 for every device.
FN_WARNINGS = ("resource_exhausted", "replace_soon", "memory_nearly_full", "ofd_timeout")


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
        if "info" in state:
            yield from _for_rules(state)


def _for_rules(state: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    """The families alert rules and the fleet dashboard read: the adapter's identity, and moments as timestamps
    (``0``: none) that rules compare with ``time()``; per device where a device has them."""
    info = state["info"]
    devices = state["devices"]
    identity = GaugeMetricFamily(
        "kkt_adapter_info",
        "The adapter and each of its devices: version, mode, driver, FN and registration numbers, store and till",
        labels=["version", "mode", "device", "driver", "fn_number", "registration_number", "store", "till"],
    )
    for device in devices:
        identity.add_metric(
            [
                info["version"],
                info["mode"],
                device["name"],
                device["driver"],
                device["fn_number"],
                device["registration_number"],
                info["store"],
                info["till"],
            ],
            1.0,
        )
    yield identity
    yield GaugeMetricFamily(
        "kkt_adapter_start_time_seconds", "When this adapter process started", value=state["started_at"]
    )
    yield GaugeMetricFamily(
        "kkt_buffer_oldest_unsynced_timestamp_seconds",
        "When the oldest receipt the OFD has not acknowledged was stored (0 when none)",
        value=state["buffer_oldest_unsynced_at"],
    )
    yield GaugeMetricFamily(
        "kkt_clock_behind_seconds",
        "How far the wall clock is behind the newest time the buffer has seen (0 when it is not)",
        value=state["clock_behind_s"],
    )
    if state["ofd_last_success_at"] is not None:
        yield GaugeMetricFamily(
            "kkt_ofd_last_success_timestamp_seconds",
            "When the OFD last answered a document sent by the adapter (0 before the first answer)",
            value=state["ofd_last_success_at"],
        )
    if state["heartbeat_last_ack_at"] is not None:
        yield GaugeMetricFamily(
            "kkt_heartbeat_last_ack_timestamp_seconds",
            "When the ERP last acknowledged a heartbeat (0 before the first)",
            value=state["heartbeat_last_ack_at"],
        )
    yield from _per_device(devices)


def _per_device(devices: list[dict[str, Any]]) -> Iterator[GaugeMetricFamily]:
    moments = {
        "fn_valid_until": GaugeMetricFamily(
            "kkt_fn_valid_until_timestamp_seconds",
            "Start of the day the fiscal drive's validity ends, in the store's time zone, by device",
            labels=["device"],
        ),
        "fn_oldest_unsent_at": GaugeMetricFamily(
            "kkt_fn_oldest_unsent_timestamp_seconds",
            "When the fiscal drive's first document not acknowledged by the OFD was signed (0 when none), by device",
            labels=["device"],
        ),
        "checked_at": GaugeMetricFamily(
            "kkt_device_checked_timestamp_seconds",
            "When the device last answered or failed to (a print, a status read, the periodic check), by device",
            labels=["device"],
        ),
        "shift_opened_at": GaugeMetricFamily(
            "kkt_shift_opened_timestamp_seconds",
            "When the open shift was opened (0 when the shift is closed), by device",
            labels=["device"],
        ),
    }
    faults = GaugeMetricFamily(
        "kkt_device_fault", "1 while the device reports the fault, by device and fault", labels=["device", "fault"]
    )
    warnings = GaugeMetricFamily(
        "kkt_fn_warning", "1 while the fiscal drive raises the warning, by device", labels=["device", "warning"]
    )
    for device in devices:
        name = device["name"]
        for key, family in moments.items():
            if device[key] is not None:
                family.add_metric([name], device[key])
        for fault in sorted(set(KNOWN_FAULTS) | set(device["faults"])):
            faults.add_metric([name, fault], 1.0 if fault in device["faults"] else 0.0)
        for warning in FN_WARNINGS:
            warnings.add_metric([name, warning], 1.0 if warning in device["fn_warnings"] else 0.0)
    yield from moments.values()
    yield faults
    yield warnings
