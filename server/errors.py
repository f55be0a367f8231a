"""The one error hierarchy of the daemon.

Services and adapters raise these; ``app`` maps them to JSON-RPC errors in one place
(:func:`to_jsonrpc`). Adapters translate their library's exceptions into these once.
"""

from __future__ import annotations

from typing import Any

from dockyard.protocol.errors import ErrorCode


class DockyardError(Exception):
    """Base of every error a client may see. ``data`` goes to the JSON-RPC error's ``data``."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class InvalidParams(DockyardError):
    code = ErrorCode.INVALID_PARAMS


class TaskNotFound(DockyardError):
    code = ErrorCode.TASK_NOT_FOUND

    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id!r} not found", {"taskId": task_id})


class InvalidState(DockyardError):
    """An operation that the task's current state does not allow; names both."""

    code = ErrorCode.INVALID_STATE

    def __init__(self, task_id: str, state: str, operation: str) -> None:
        super().__init__(
            f"cannot {operation} task {task_id!r}: it is {state}",
            {"taskId": task_id, "state": state, "operation": operation},
        )


class Busy(DockyardError):
    code = ErrorCode.BUSY


class RevisionConflict(DockyardError):
    code = ErrorCode.REVISION_CONFLICT


class DockerUnavailable(DockyardError):
    code = ErrorCode.DOCKER_UNAVAILABLE

    HOW_TO_START = (
        "start the engine (as root on Debian: `bash scripts/engine.sh`; elsewhere: start Docker Desktop "
        "or `sudo systemctl start docker`) and check `dockyard doctor`"
    )

    def __init__(self, detail: str) -> None:
        super().__init__(f"Docker engine is not reachable ({detail}); {self.HOW_TO_START}", {"detail": detail})


class PolicyRefused(DockyardError):
    """A request that would weaken the container's hardening; ``data.field`` names the culprit."""

    code = ErrorCode.POLICY_REFUSED

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"refused by policy: {field}: {reason}", {"field": field, "reason": reason})
        self.field = field


class GitError(DockyardError):
    code = ErrorCode.GIT_ERROR


class MergeConflict(DockyardError):
    code = ErrorCode.MERGE_CONFLICT


class NotFound(DockyardError):
    """Something other than a task (checkpoint, session, exec, image) is missing."""

    code = ErrorCode.NOT_FOUND


class ResourceLimit(DockyardError):
    code = ErrorCode.RESOURCE_LIMIT


class JournalCorrupt(DockyardError):
    """Damage in the middle of the journal: the daemon refuses to start rather than drop records."""

    def __init__(self, path: str, offset: int, detail: str) -> None:
        super().__init__(
            f"journal {path} is corrupt at byte offset {offset}: {detail}; "
            "move it aside or repair it by hand, nothing was discarded",
            {"path": path, "offset": offset},
        )
        self.offset = offset


def to_jsonrpc(exc: DockyardError) -> dict[str, Any]:
    """The JSON-RPC ``error`` object for ``exc``."""
    err: dict[str, Any] = {"code": int(exc.code), "message": exc.message}
    if exc.data is not None:
        err["data"] = exc.data
    return err


class ContainerGone(NotFound):
    """The task's container no longer exists in the engine (removed behind our back)."""


class EngineConflict(DockyardError):
    """The engine refused because of the container's current state (HTTP 409)."""

    code = ErrorCode.INVALID_STATE
