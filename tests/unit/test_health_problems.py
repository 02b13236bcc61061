"""Health's reasons as problems: each reason has a stable code and the values its message needs, so the operator's
page and an ERP can say it in the cashier's language with what to do; the English reasons stay as they were."""

from __future__ import annotations

from typing import Any

import pytest
from health_support import inputs

from kkt_adapter.status.health import DAY, DeviceHealth, assess, judge

MAIN = DeviceHealth("main")
PAPER_OUT = DeviceHealth("till-2", usable=False, problem="paper out", fault="paper_out")


def coded(*devices: DeviceHealth, **changes: Any) -> list[tuple[str, str, dict[str, Any]]]:
    _, problems = judge(inputs(*devices, **changes))
    return [(p.code, p.severity, p.params) for p in problems]


@pytest.mark.parametrize(
    ("devices", "changes", "code", "severity", "params"),
    [
        ((MAIN,), {"database_ok": False}, "database_not_writable", "unhealthy", {}),
        (
            (MAIN, PAPER_OUT),
            {},
            "device_paper_out",
            "degraded",
            {"device": "till-2", "detail": "paper out", "others_print": True},
        ),
        (
            (DeviceHealth("main", usable=False, problem="paper out", fault="paper_out"),),
            {},
            "device_paper_out",
            "unhealthy",
            {"device": None, "detail": "paper out"},
        ),
        (
            (MAIN,),
            {
                "breaker_state": "OPEN",
                "oldest_unsynced_age_s": 3 * 3600.0,
                "ofd_last_success_at": 1000.0,
                "now": 11800.0,
            },
            "ofd_unreachable",
            "degraded",
            {"since": 1000.0, "down_seconds": 10800, "days_left": 29},
        ),
        (
            (MAIN,),
            {"oldest_unsynced_age_s": 26 * DAY},
            "fn_block_near",
            "degraded",
            {"days_old": 26.0, "days_left": 4, "warn_days": 25},
        ),
        (
            (MAIN,),
            {"oldest_unsynced_age_s": 31 * DAY},
            "fn_block_reached",
            "unhealthy",
            {"days_old": 31.0, "days_left": 0},
        ),
        (
            (DeviceHealth("main", fn_warnings=("replace_soon",)),),
            {},
            "fn_replace_soon",
            "degraded",
            {"device": None, "warning": "replace_soon"},
        ),
        ((MAIN,), {"sync_mode": "off"}, "ofd_not_configured", "degraded", {}),
    ],
)
def test_each_reason_has_its_code_severity_and_values(
    devices: tuple[DeviceHealth, ...], changes: dict[str, Any], code: str, severity: str, params: dict[str, Any]
) -> None:
    """A table of situations and the problem each gives."""
    assert (code, severity, params) in coded(*devices, **changes)


def test_problems_and_reasons_are_the_same_list_in_the_same_order() -> None:
    """``reasons`` is each problem's English sentence, worst first, exactly as clients read it before codes."""
    situation = inputs(MAIN, PAPER_OUT, breaker_state="OPEN", database_ok=False)
    verdict, problems = judge(situation)
    assert assess(situation) == (verdict, [p.text for p in problems])
    assert [p.severity for p in problems] == ["unhealthy", "degraded", "degraded"]


def test_no_device_can_print_lists_each_device_with_its_code() -> None:
    """With every device down, one problem names each device and its fault."""
    offline = DeviceHealth("main", usable=False, problem="device offline", fault="offline")
    (problem,) = [p for p in judge(inputs(offline, PAPER_OUT))[1] if p.code == "no_device_can_print"]
    assert problem.params["devices"] == [
        {"device": "main", "code": "device_offline", "detail": "device offline"},
        {"device": "till-2", "code": "device_paper_out", "detail": "paper out"},
    ]
