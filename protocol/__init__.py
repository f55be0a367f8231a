"""The Dockyard wire contract: pydantic models, method names, error codes. Imports pydantic and stdlib only."""

from .base import WireModel
from .errors import ErrorCode
from .methods import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION", "ErrorCode", "WireModel"]
