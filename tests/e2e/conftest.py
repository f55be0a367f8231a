"""pytest-lsp harness for the daemon: one ``dockyard serve --stdio`` per test, VS Code and Neovim capability sets.

Raw results (DESIGN §7). pygls' client structures the ``result`` of a method it does not know, and the
``params`` of a notification it does not know, into namedtuples built with ``rename=True``: a label key
``com.example.owner`` or env var ``MY-VAR`` comes back as ``_0``. :class:`DockyardClientProtocol` therefore
maps every ``dockyard/*`` request, result and notification to plain attrs envelopes whose payload field is
typed ``Any`` -- cattrs passes ``Any`` through untouched -- so tests see exactly the JSON the daemon sent,
as dicts and lists. (The server does the mirror image for params in ``server/app.py``.) The LSP's own
methods (``initialize``, ``workspace/executeCommand``) keep lsprotocol's types; ``executeCommand``'s result
is ``LSPAny``, which lsprotocol also passes through as plain JSON.

Notifications. pytest-lsp's ``wait_for_notification`` keeps one future per method (a second wait replaces
the first) and resolves it with the first notification of that method. Tests here need "the taskChanged
whose state is paused" or "every output of exec e-1", so the protocol also records every ``dockyard/*``
notification in arrival order, and :meth:`DockyardClient.expect` registers a predicate *before* the
request that causes the notification is sent (DESIGN §7), resolving on the first match that arrives after.

Docker. Tests marked ``docker`` get a workspace whose containers and volumes (label
``dockyard.workspace=<resolved tmp path>``) are force-removed at teardown. Docker is required, never
skipped: without an engine the ``docker_engine`` fixture errors and so does every such test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs
import docker
import docker.errors
import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, LanguageClientProtocol, client_capabilities
from pytest_lsp.client import register_lsp_features

from dockyard.protocol import methods as m

TESTBOX = "dockyard/testbox:0.1.0"
WORKSPACE_LABEL = "dockyard.workspace"
SERVER_COMMAND = [sys.executable, "-m", "dockyard.server", "serve", "--stdio"]
# pytest-lsp's server_env *replaces* the environment: start from ours (PATH, DOCKER_HOST, HOME ...).
SERVER_ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
CLIENTS = {"vscode": "visual-studio-code", "neovim": "neovim"}
WAIT_S = 20.0


# --- raw envelopes ------------------------------------------------------------------------------------
# No default for ``jsonrpc``: lsprotocol's converter drops fields equal to their default when unstructuring.
@attrs.define
class RawRequest:
    id: Any
    method: str
    jsonrpc: str
    params: Any = None


@attrs.define
class RawResponse:
    id: Any
    jsonrpc: str
    result: Any = None


@attrs.define
class RawNotification:
    method: str
    jsonrpc: str
    params: Any = None


@dataclass
class _Expectation:
    method: str
    predicate: Callable[[Any], bool]
    future: asyncio.Future[Any]


class DockyardClientProtocol(LanguageClientProtocol):
    """pytest-lsp's protocol, keeping every ``dockyard/*`` payload as raw JSON (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.notes: list[tuple[str, Any]] = []
        self._expectations: list[_Expectation] = []

    def get_message_type(self, method: str) -> Any:  # type: ignore[override]  # base is an lru_cache
        if method in m.ALL_REQUESTS:
            return RawRequest
        if method in m.ALL_NOTIFICATIONS:
            return RawNotification
        return super().get_message_type(method)

    def get_result_type(self, method: str) -> Any:  # type: ignore[override]
        if method in m.ALL_REQUESTS:
            return RawResponse
        return super().get_result_type(method)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if method_name.startswith("dockyard/"):
            self.notes.append((method_name, params))
            for exp in list(self._expectations):
                if exp.method == method_name and not exp.future.done() and exp.predicate(params):
                    exp.future.set_result(params)
                    self._expectations.remove(exp)
        super()._handle_notification(method_name, params)  # type: ignore[no-untyped-call]

    def expect(self, method: str, predicate: Callable[[Any], bool] = lambda _p: True) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._expectations.append(_Expectation(method, predicate, future))
        return future


class DockyardClient(LanguageClient):
    protocol: DockyardClientProtocol
    initialize_result: types.InitializeResult  # set by the ``client`` fixture

    async def call(self, method: str, params: Any, timeout: float = WAIT_S) -> Any:
        """One ``dockyard/*`` request; the raw result, or JsonRpcException for an error reply."""
        request = self.protocol.send_request_async(method, params)  # type: ignore[no-untyped-call]
        return await asyncio.wait_for(request, timeout)

    async def command(self, name: str, *arguments: Any, timeout: float = WAIT_S) -> Any:
        params = types.ExecuteCommandParams(command=name, arguments=list(arguments))
        return await asyncio.wait_for(self.workspace_execute_command_async(params), timeout)

    def expect(self, method: str, predicate: Callable[[Any], bool] = lambda _p: True) -> asyncio.Future[Any]:
        """Start waiting for ``method`` (matching ``predicate``) now; await the result after sending."""
        return self.protocol.expect(method, predicate)

    def notes(self, method: str, predicate: Callable[[Any], bool] = lambda _p: True) -> list[Any]:
        """Params of every ``method`` notification received so far that match ``predicate``, in order."""
        return [p for name, p in self.protocol.notes if name == method and predicate(p)]

    @staticmethod
    async def arrived(future: asyncio.Future[Any], timeout: float = WAIT_S) -> Any:
        """The params an :meth:`expect` future resolves with, or TimeoutError."""
        return await asyncio.wait_for(future, timeout)

    @staticmethod
    async def rpc_error(awaitable: Awaitable[Any]) -> JsonRpcException:
        """The JSON-RPC error a request ends with (fails the test if it succeeds)."""
        with pytest.raises(JsonRpcException) as info:
            await awaitable
        return info.value


def make_client() -> DockyardClient:
    client = DockyardClient(protocol_cls=DockyardClientProtocol, converter_factory=default_converter)
    register_lsp_features(client)
    return client


# --- workspace + Docker -------------------------------------------------------------------------------
def cleanup_workspace(engine: docker.DockerClient, workspace: Path) -> None:
    """Force-remove every container and volume labelled as belonging to ``workspace``."""
    label = f"{WORKSPACE_LABEL}={workspace}"
    for container in engine.containers.list(all=True, filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
    for volume in engine.volumes.list(filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            volume.remove(force=True)


@pytest.fixture
def docker_engine() -> Iterator[docker.DockerClient]:
    """A live engine, or an error (never a skip: CI must fail without Docker)."""
    engine = docker.from_env(timeout=30)
    engine.ping()
    yield engine
    engine.close()


@pytest.fixture
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A fresh, resolved workspace dir; for ``docker`` tests its containers/volumes are removed afterwards."""
    root = (tmp_path / "ws").resolve()
    root.mkdir()
    if request.node.get_closest_marker("docker") is None:
        yield root
        return
    engine: docker.DockerClient = request.getfixturevalue("docker_engine")
    cleanup_workspace(engine, root)
    try:
        yield root
    finally:
        cleanup_workspace(engine, root)


@pytest_lsp.fixture(  # type: ignore[untyped-decorator]
    config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=SERVER_ENV, client_factory=make_client),
    params=list(CLIENTS),
    ids=list(CLIENTS),
)
async def client(request: pytest.FixtureRequest, lsp_client: DockyardClient, workspace: Path) -> AsyncIterator[None]:
    """The daemon, initialized with ``workspace`` as rootUri and one editor's capabilities (VS Code, Neovim)."""
    client_name = CLIENTS[request.param]
    result = await asyncio.wait_for(
        lsp_client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(client_name),
                root_uri=workspace.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
                client_info=types.ClientInfo(name=f"pytest-lsp as {client_name}"),
            )
        ),
        60,
    )
    lsp_client.initialize_result = result
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 30)
