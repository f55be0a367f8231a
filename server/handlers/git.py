"""Git layer methods: diff and integration of a task branch."""

from __future__ import annotations

import threading

from dockyard.protocol import methods as m
from dockyard.protocol.git import Diff, DiffTaskParams, IntegrateTaskParams, Integration
from dockyard.server.handlers import handles
from dockyard.server.runtime import Runtime


@handles(m.DIFF_TASK)
def diff_task(rt: Runtime, params: DiffTaskParams, _cancel: threading.Event) -> Diff:
    return rt.integration.diff(params)


@handles(m.INTEGRATE_TASK)
def integrate_task(rt: Runtime, params: IntegrateTaskParams, _cancel: threading.Event) -> Integration:
    return rt.integration.integrate(params)
