"""The emulators' documentation covers every fault in Python, curl and on the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kkt_emulators
from kkt_clock import ManualClock
from kkt_emulators.faults import FaultProgram
from kkt_emulators.web import fault_setters

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulators.md"
PYTHON_NAMES = {
    "success": "set_success(",
    "failure-count": "set_failure_count(",
    "permanent-failure": "set_permanent_failure(",
    "fail-every": "set_fail_every(",
    "latency": "set_latency(",
    "rate-limit": "set_rate_limit(",
    "connection-reset": "set_connection_reset(",
    "lose-reply": "set_lose_reply(",
    "down-for": "set_down_for(",
    "hold": "hold()",
    "release": "release()",
}
CLI_FLAGS = ["--fail-count", "--permanent-failure", "--fail-every", "--latency-ms", "--rate-limit"]
CLI_FLAGS += ["--connection-reset", "--lose-reply", "--down-for", "--validate"]


@pytest.mark.parametrize("route", sorted(fault_setters(FaultProgram(ManualClock()))))
def test_every_admin_fault_route_is_documented_with_curl_and_python(route: str) -> None:
    """Each fault's admin route appears in a curl example, and its Python method in a code example."""
    text = DOC.read_text(encoding="utf-8")
    assert f"curl -X POST localhost:9000/ofd/v1/_test/{route}" in text
    assert PYTHON_NAMES[route] in text


@pytest.mark.parametrize("flag", CLI_FLAGS)
def test_every_cli_flag_is_documented(flag: str) -> None:
    """Each fault flag of ``kkt-adapter emulate ofd`` appears in the documentation."""
    assert f"kkt-adapter emulate ofd {flag}" in DOC.read_text(encoding="utf-8")


def _validation_codes() -> set[str]:
    """Every code the mock OFD's validation modules can answer with."""
    package = Path(kkt_emulators.__file__).parent
    source = "".join(path.read_text(encoding="utf-8") for path in package.glob("validation*.py"))
    found = set(re.findall(r'Reject\(\s*"([A-Z_]+)"', source)) | set(re.findall(r'code="([A-Z_]+)"', source))
    assert len(found) > 10, "the pattern no longer finds the codes"
    return found


@pytest.mark.parametrize("code", sorted(_validation_codes()))
def test_every_validation_code_is_documented(code: str) -> None:
    """Each code validate mode answers with has its row in the documentation's table."""
    assert f"`{code}`" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("field", ["by_type", "key_reuses", "conflicts", "gaps", "out_of_order"])
def test_the_statistics_fields_are_documented(field: str) -> None:
    """The OFD statistics' fields appear in the documentation's statistics section."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### OFD statistics") : text.index("## Mock ERP")]
    assert f'"{field}"' in section
    assert f"`{field}`" in section


def test_every_atol_fault_program_is_documented_in_python_admin_and_cli(tmp_path: Path) -> None:
    """Each ATOL fault program appears as its Python call and its admin body; each ATOL CLI flag appears too."""
    from kkt_emulators.atol.admin import programs
    from kkt_emulators.atol.faults import AtolFaults

    text = DOC.read_text(encoding="utf-8")
    with kkt_emulators.EmulatedKKT(tmp_path, print_delay_ms=0) as kkt:
        names = list(programs(AtolFaults(ManualClock(), kkt)))
    for name in names:
        if name != "clear":
            assert f'{{"fault": "{name}"' in text, name
        assert f"`{name}(" in text, name
    for flag in ("--in-progress", "--lose-post", "--lose-get", "--block", "--block-polls", "--paper-out"):
        assert flag in text, flag
    for flag in ("--cover-open", "--disconnect", "--down-for", "--ofd-url", "--data-dir", "--user", "--password"):
        assert flag in text, flag
