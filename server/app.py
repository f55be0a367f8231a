"""The pygls server: protocol plumbing only. Validation, dispatch and error mapping happen here, once.

Every ``dockyard/*`` method (and its ``workspace/executeCommand`` twin ``dockyard.*``) goes through
:meth:`DockyardServer.dispatch`: params validated by the protocol's pydantic model (-32602 with the
error list) -> the handler in a worker thread -> ``to_wire()``; a DockyardError becomes its JSON-RPC code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types
from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from dockyard.protocol import methods as m
from dockyard.protocol.errors import ErrorCode
from dockyard.protocol.notifications import DockyardCapabilities
from dockyard.protocol.registry import METHODS
from dockyard.server import __version__
from dockyard.server.errors import DockyardError, InvalidParams
from dockyard.server.handlers import load_all
from dockyard.server.notify import LoopNotifier
from dockyard.server.runtime import Runtime

log = logging.getLogger(__name__)


# ``jsonrpc`` has no default on purpose: lsprotocol's converter omits fields equal to their default when it
# unstructures, and a message without ``"jsonrpc": "2.0"`` is not JSON-RPC 2.0 (pygls' own client crashes on it).
@attrs.define
class RawRequest:
    """A dockyard/* request whose params stay a plain dict (pygls would rename non-identifier keys)."""

    id: Any
    method: str
    jsonrpc: str
    params: Any = None


@attrs.define
class RawNotification:
    method: str
    jsonrpc: str
    params: Any = None


def to_rpc(exc: DockyardError) -> JsonRpcException:
    return JsonRpcException(message=exc.message, code=int(exc.code), data=exc.data)


class DockyardProtocol(LanguageServerProtocol):
    def get_message_type(self, method: str) -> Any:  # type: ignore[override]  # base is an lru_cache
        if method in m.ALL_REQUESTS:
            return RawRequest
        if method in m.ALL_NOTIFICATIONS:
            return RawNotification
        return super().get_message_type(method)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        server = self._server
        assert isinstance(server, DockyardServer)
        result.capabilities.experimental = {"dockyard": server.capabilities().to_wire()}
        result.capabilities.execute_command_provider = types.ExecuteCommandOptions(
            commands=[m.command_name(name) for name in server.handlers]
        )
        return result

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]  # async on purpose: cancellable
        self, params: types.ExecuteCommandParams
    ) -> Any:
        """``dockyard.<name>`` with one object argument == ``dockyard/<name>``; async so cancel reaches it."""
        method = m.method_for_command(params.command)
        server = self._server
        assert isinstance(server, DockyardServer)
        if method is None or method not in server.handlers:
            raise JsonRpcException(message=f"unknown command {params.command!r}", code=int(ErrorCode.INVALID_PARAMS))
        args = list(params.arguments or [])
        return await server.dispatch(method, args[0] if args else {})


class DockyardServer(LanguageServer):
    def __init__(self, workspace: Path | None = None) -> None:
        super().__init__("dockyard", __version__, protocol_cls=DockyardProtocol, converter_factory=default_converter)
        self.fixed_workspace = workspace
        self.runtime: Runtime | None = None
        self.notifier = LoopNotifier(self)
        self.pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="dockyard-handler")
        self.handlers = load_all()
        for method in self.handlers:
            self.feature(method)(self._feature(method))
        # pygls tags the functions it registers, which a bound method cannot take: wrap them.
        self.feature(types.INITIALIZE)(lambda params: self._on_initialize(params))
        self.feature(types.SHUTDOWN)(lambda *args: self._on_shutdown(*args))

    def capabilities(self) -> DockyardCapabilities:
        return DockyardCapabilities(
            protocol_version=m.PROTOCOL_VERSION, server_version=__version__, features=sorted(self.handlers)
        )

    def _feature(self, method: str) -> Any:
        async def handler(params: Any) -> Any:
            return await self.dispatch(method, params)

        handler.__name__ = method.replace("/", "_")
        return handler

    def _on_initialize(self, params: types.InitializeParams) -> None:
        workspace = self.fixed_workspace or workspace_of(params)
        self.open_workspace(workspace)

    def _on_shutdown(self, *_args: Any) -> None:
        if self.runtime is not None:
            self.runtime.close()

    def open_workspace(self, workspace: Path) -> None:
        if self.runtime is None:
            self.runtime = Runtime(workspace, self.notifier)
            self.runtime.start()

    async def dispatch(self, method: str, raw: Any) -> Any:
        if self.runtime is None:
            raise JsonRpcException(message="server not initialized", code=-32002)
        try:
            params = METHODS[method].params.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            details = json.loads(exc.json(include_url=False))
            raise to_rpc(InvalidParams(f"invalid params for {method}", details)) from None
        cancel = threading.Event()
        work = asyncio.get_running_loop().run_in_executor(
            self.pool, self.handlers[method], self.runtime, params, cancel
        )
        try:
            result: BaseModel = await asyncio.shield(work)
        except asyncio.CancelledError:
            cancel.set()
            raise await self._cancelled(method, work) from None
        except DockyardError as exc:
            raise to_rpc(exc) from exc
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)

    async def _cancelled(self, method: str, work: asyncio.Future[BaseModel]) -> JsonRpcException:
        """The one reply to a cancelled request: -32800, with whatever the work ended with in ``data``."""
        try:
            outcome: Any = (await work).model_dump(mode="json", by_alias=True, exclude_none=True)
        except DockyardError as exc:
            outcome = {"error": exc.message}
        return JsonRpcException(message=f"{method} cancelled", code=int(ErrorCode.REQUEST_CANCELLED), data=outcome)


def workspace_of(params: types.InitializeParams) -> Path:
    """The initialize rootUri, else the first workspace folder, else the current directory."""
    for uri in [params.root_uri, *[f.uri for f in params.workspace_folders or []]]:
        if uri:
            path = to_fs_path(uri)
            if path:
                return Path(path)
    if params.root_path:
        return Path(params.root_path)
    return Path.cwd()
