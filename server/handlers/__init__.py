"""One thin function per method: typed params in, one service call, a wire model out.

Params arrive already validated against ``dockyard.protocol.registry.METHODS``; the app maps errors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from dockyard.server.runtime import Runtime

Handler = Callable[[Runtime, Any, threading.Event], BaseModel]
HANDLERS: dict[str, Handler] = {}


def handles(method: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[method] = fn
        return fn

    return register


def load_all() -> dict[str, Handler]:
    """Import the handler modules (they register themselves) and return the table."""
    from dockyard.server.handlers import git, lifecycle, processes  # noqa: F401

    return HANDLERS
