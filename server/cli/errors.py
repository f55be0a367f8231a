"""How the CLI words failures (no rich here: ``dockyard serve`` imports this too)."""

from __future__ import annotations

from typing import Any

from dockyard.protocol.errors import ErrorCode
from dockyard.server.cli.rpc import RpcError


class CliError(Exception):
    """A failure the CLI explains in one line: ``dockyard: <message>``, then exits with ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _error_details(data: Any) -> str:
    """``loc: msg`` of the first few pydantic errors in an invalid-params reply."""
    if not isinstance(data, list):
        return ""
    parts = []
    for item in data[:5]:
        if isinstance(item, dict):
            loc = ".".join(str(p) for p in item.get("loc", []))
            parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
    return "; ".join(parts)


def describe_rpc_error(err: RpcError) -> str:
    """The one line shown for an error reply of the daemon."""
    message = err.message
    data = err.data
    if err.code == ErrorCode.POLICY_REFUSED and isinstance(data, dict) and data.get("field"):
        message += f" (field: {data['field']})"
    elif err.code == ErrorCode.INVALID_PARAMS:
        details = _error_details(data)
        if details:
            message += f": {details}"
    return message
