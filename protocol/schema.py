"""Export the protocol as one JSON Schema: ``python -m dockyard.protocol.schema [PATH]``.

The file is checked in at ``docs/protocol.schema.json``; a test fails when it is stale, and the
VS Code client generates its TypeScript types from it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import methods
from .errors import ErrorCode
from .notifications import DockyardCapabilities
from .registry import METHODS, NOTIFICATIONS

DEFAULT_PATH = Path("docs/protocol.schema.json")


def _models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for spec in METHODS.values():
        seen.setdefault(spec.params.__name__, spec.params)
        seen.setdefault(spec.result.__name__, spec.result)
    extra: list[type[BaseModel]] = [*NOTIFICATIONS.values(), DockyardCapabilities]
    for model in extra:
        seen.setdefault(model.__name__, model)
    return [seen[name] for name in sorted(seen)]


def build_schema() -> dict[str, Any]:
    """The whole contract: model definitions, method table, notifications, error codes."""
    refs, defs = models_json_schema(
        [(model, "serialization") for model in _models()],
        by_alias=True,
        ref_template="#/$defs/{model}",
    )
    ref = {model.__name__: refs[(model, "serialization")]["$ref"] for model in _models()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Dockyard protocol",
        "protocolVersion": methods.PROTOCOL_VERSION,
        "methods": {
            name: {"params": {"$ref": ref[s.params.__name__]}, "result": {"$ref": ref[s.result.__name__]}}
            for name, s in METHODS.items()
        },
        "notifications": {name: {"params": {"$ref": ref[model.__name__]}} for name, model in NOTIFICATIONS.items()},
        "errorCodes": {code.name: int(code) for code in ErrorCode},
        "$defs": defs.get("$defs", {}),
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
