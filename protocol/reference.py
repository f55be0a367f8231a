"""Render docs/protocol.md from the JSON Schema: ``python -m dockyard.protocol.reference``.

Generated, never hand-edited, so the reference cannot drift from the models; a test checks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .schema import build_schema

DEFAULT_PATH = Path("docs/protocol.md")
INTRO = """# Dockyard protocol reference

Generated from `docs/protocol.schema.json` by `python -m dockyard.protocol.reference`; do not edit by hand.
Transport: LSP base protocol (Content-Length framing), JSON-RPC 2.0, `initialize` first. Every method is
also a `workspace/executeCommand` command `dockyard.<name>` taking one object argument. camelCase on the wire.
"""


def _type_of(prop: dict[str, Any] | bool) -> str:
    if isinstance(prop, bool):
        return "any"
    if "$ref" in prop:
        return str(prop["$ref"]).split("/")[-1]
    if "anyOf" in prop:
        return " \\| ".join(_type_of(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"{_type_of(prop.get('items', {}))}[]"
    if prop.get("type") == "object" and "additionalProperties" in prop:
        return f"map<string, {_type_of(prop['additionalProperties'])}>"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    return str(prop.get("type", "any"))


def _model_table(name: str, model: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if model.get("description"):
        lines += [" ".join(model["description"].split()), ""]
    if "enum" in model:
        return [*lines, "One of: " + ", ".join(f"`{v}`" for v in model["enum"]), ""]
    required = set(model.get("required", []))
    lines += ["| field | type | required | notes |", "|---|---|---|---|"]
    for field, prop in model.get("properties", {}).items():
        note = " ".join(str(prop.get("description", "")).split())
        default = prop.get("default")
        if default not in (None, [], {}):
            note = (note + f" (default `{default}`)").strip()
        lines.append(f"| `{field}` | {_type_of(prop)} | {'yes' if field in required else ''} | {note} |")
    return [*lines, ""]


def render() -> str:
    schema = build_schema()
    out = [INTRO, "## Requests", "", "| method | params | result |", "|---|---|---|"]
    for method, spec in schema["methods"].items():
        out.append(f"| `{method}` | {_type_of(spec['params'])} | {_type_of(spec['result'])} |")
    out += ["", "## Notifications (daemon → every client)", "", "| method | params |", "|---|---|"]
    for method, spec in schema["notifications"].items():
        out.append(f"| `{method}` | {_type_of(spec['params'])} |")
    out += ["", "## Error codes", "", "| name | code |", "|---|---|"]
    out += [f"| {name} | {code} |" for name, code in schema["errorCodes"].items()]
    out += ["", "## Types", ""]
    for name in sorted(schema["$defs"]):
        out += _model_table(name, schema["$defs"][name])
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    DEFAULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    DEFAULT_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DEFAULT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
