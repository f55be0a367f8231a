"""JSON-RPC error codes of the Dockyard protocol (DESIGN §4). -32001/-32002 belong to LSP: never reused."""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    REQUEST_CANCELLED = -32800

    TASK_NOT_FOUND = -32010
    INVALID_STATE = -32011
    BUSY = -32012
    REVISION_CONFLICT = -32013
    DOCKER_UNAVAILABLE = -32014
    POLICY_REFUSED = -32015
    GIT_ERROR = -32016
    MERGE_CONFLICT = -32017
    NOT_FOUND = -32018
    RESOURCE_LIMIT = -32019
