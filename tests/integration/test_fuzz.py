"""Schemathesis against the real app in-process: no 5xx but the documented 503s, and every answer as declared.

A fixed seed and a bounded number of cases per operation keep ``make test`` under a minute; ``make fuzz`` runs the
same test with thousands (``KKT_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.python.asgi import shutdown_lifespans  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kkt_adapter.api.app import create_app  # noqa: E402
from kkt_adapter.config import load_settings  # noqa: E402
from kkt_adapter.testing import FakeClock, FakeDriver  # noqa: E402

pytestmark = pytest.mark.slow

#: Cases per operation: about 20 operations, so a few hundred in all under ``make test``.
EXAMPLES = int(os.environ.get("KKT_FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("KKT_FUZZ_SEED", "20251130"))


def _documented_503(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 5xx is a failure unless it is a 503 the schema declares for the operation."""
    if response.status_code == 503 and "503" in case.operation.definition.raw.get("responses", {}):
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [_documented_503, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def schema(tmp_path: Path) -> Iterator[Any]:
    settings_ = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    app = create_app(settings_, clock=FakeClock(), driver=FakeDriver())
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        shutdown_lifespans()


def test_every_operation_answers_as_declared(schema: Any) -> None:
    """Each operation, fed generated (valid and invalid) requests: no undocumented server error, every status code
    and body as the schema declares."""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        strategy = operation.as_strategy() | operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            try:
                case.call_and_validate(checks=CHECKS)
            except Exception as exc:  # a failed check: collect them all, report at the end
                failures.append(f"{case.operation.label}: {exc}\n{case.as_curl_command()}")

        run()
    assert not failures, "\n\n".join(failures[:20])
