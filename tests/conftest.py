"""Suite-wide rules.

Tests marked ``docker`` need a real engine. CI has one, so such a test must never *skip* (a skipped
security check reads like a pass): a skip of a ``docker`` test is reported as a failure here.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("docker") is not None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"a docker test may fail but never skip (CI requires the engine); it skipped: {reason}"
