"""Base model: camelCase on the wire, snake_case in Python, unknown fields refused on input."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """Every protocol object. ``extra="forbid"`` so a misspelt param is an error, not silently ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict with camelCase keys; None fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
