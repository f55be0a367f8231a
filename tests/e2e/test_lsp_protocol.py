"""The daemon over stdio with pytest-lsp, no containers: initialize, validation errors, not-found, commands.

Every test runs once with VS Code's and once with Neovim's client capabilities (the ``client`` fixture).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from dockyard.protocol import methods as m
from dockyard.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from conftest import DockyardClient  # tests/e2e/conftest.py; fixtures bring the objects themselves

pytestmark = pytest.mark.timeout(60)


async def test_initialize_advertises_dockyard(client: DockyardClient) -> None:
    result = client.initialize_result
    dockyard = result.capabilities.experimental["dockyard"]
    assert dockyard["protocolVersion"] == m.PROTOCOL_VERSION == "1.0"
    assert dockyard["serverVersion"]
    features = dockyard["features"]
    assert m.CREATE_TASK in features
    assert {m.LIST_TASKS, m.GET_TASK, m.EXEC, m.OPEN_SESSION, m.REMOVE_TASK} <= set(features)
    assert set(features) <= set(m.ALL_REQUESTS)

    commands = result.capabilities.execute_command_provider.commands
    assert "dockyard.createTask" in commands
    # every advertised method is also reachable as a workspace/executeCommand twin
    assert {m.command_name(f) for f in features} == set(commands)
    assert result.server_info is not None and result.server_info.name == "dockyard"


async def test_list_tasks_of_a_fresh_workspace_is_empty(client: DockyardClient) -> None:
    assert await client.call(m.LIST_TASKS, {}) == {"tasks": []}
    assert await client.call(m.LIST_TASKS, {"states": ["running", "paused"]}) == {"tasks": []}


async def test_execute_command_list_tasks(client: DockyardClient) -> None:
    assert await client.command("dockyard.listTasks", {}) == {"tasks": []}
    # no argument at all is the same as one empty object
    assert await client.command("dockyard.listTasks") == {"tasks": []}


def _errors(data: Any) -> list[dict[str, Any]]:
    """The pydantic error list carried in an -32602 error's ``data``."""
    assert isinstance(data, list) and data, f"expected a non-empty error list in data, got {data!r}"
    assert all(isinstance(e, dict) and "loc" in e and "type" in e and "msg" in e for e in data)
    return data


# (params, an expected error's loc, its type): each must be refused with -32602 and the pydantic error list.
BAD_CREATE_PARAMS: list[tuple[dict[str, Any], list[str], str]] = [
    ({}, ["title"], "missing"),
    ({"title": 42}, ["title"], "string_type"),
    ({"title": "   "}, ["title"], "string_too_short"),
    ({"title": "t", "resources": {"memoryMb": "lots"}}, ["resources", "memoryMb"], "int_parsing"),
    ({"title": "t", "colour": "red"}, ["colour"], "extra_forbidden"),
    ({"title": "t", "labels": {"-bad key": "x"}}, ["labels", "-bad key", "[key]"], "string_pattern_mismatch"),
    ({"title": "t", "env": {"1X": "y"}}, ["env", "1X", "[key]"], "string_pattern_mismatch"),
]


async def test_create_task_bad_params_are_32602_with_the_error_list(client: DockyardClient) -> None:
    # One daemon for all cases (a daemon start is most of an e2e test's time); each case is independent.
    for params, loc, kind in BAD_CREATE_PARAMS:
        err = await client.rpc_error(client.call(m.CREATE_TASK, params))
        assert err.code == ErrorCode.INVALID_PARAMS == -32602, params
        errors = _errors(err.data)
        assert any(e["loc"] == loc and e["type"] == kind for e in errors), (params, errors)
    # nothing was created, and the daemon still answers
    assert await client.call(m.LIST_TASKS, {}) == {"tasks": []}


async def test_bad_params_list_every_problem(client: DockyardClient) -> None:
    err = await client.rpc_error(client.call(m.CREATE_TASK, {"titel": "typo", "image": 7}))
    assert err.code == -32602
    found = {(tuple(e["loc"]), e["type"]) for e in _errors(err.data)}
    assert found == {(("title",), "missing"), (("image",), "string_type"), (("titel",), "extra_forbidden")}


BAD_OTHER_PARAMS: list[tuple[str, Any]] = [
    (m.LIST_TASKS, {"states": ["sleeping"]}),
    (m.LIST_TASKS, ["not", "an", "object"]),
    (m.GET_TASK, {}),
    (m.GET_TASK, {"taskId": "not-an-id"}),
    (m.GET_TASK, {"taskId": "t-abcdef", "include": ["everything"]}),
    (m.STOP_TASK, {"taskId": "t-abcdef", "timeoutS": -1}),
    (m.EXEC, {"taskId": "t-abcdef", "command": 5}),
    (m.SESSION_INPUT, {"sessionId": "s-abcdef12"}),
]


async def test_other_bad_params_are_32602(client: DockyardClient) -> None:
    for method, params in BAD_OTHER_PARAMS:
        err = await client.rpc_error(client.call(method, params))
        assert err.code == -32602, (method, params, err)
        _errors(err.data)


# A well-formed id that no task has: every task method says -32010 and names it in data.
UNKNOWN_TASK_CALLS: list[tuple[str, dict[str, Any]]] = [
    (m.GET_TASK, {}),
    (m.START_TASK, {}),
    (m.STOP_TASK, {"timeoutS": 1}),
    (m.RESTART_TASK, {}),
    (m.PAUSE_TASK, {}),
    (m.RESUME_TASK, {}),
    (m.KILL_TASK, {}),
    (m.REMOVE_TASK, {"force": True}),
    (m.LOGS, {}),
    (m.EXEC, {"command": ["true"]}),
    (m.OPEN_SESSION, {}),
]


async def test_unknown_task_is_32010(client: DockyardClient) -> None:
    for method, extra in UNKNOWN_TASK_CALLS:
        err = await client.rpc_error(client.call(method, {"taskId": "t-abcdef", **extra}))
        assert err.code == ErrorCode.TASK_NOT_FOUND == -32010, (method, err)
        assert "t-abcdef" in err.message
        assert err.data == {"taskId": "t-abcdef"}


async def test_unknown_session_is_32018(client: DockyardClient) -> None:
    err = await client.rpc_error(client.call(m.SESSION_INPUT, {"sessionId": "s-abcdef12", "data": "x"}))
    assert err.code == ErrorCode.NOT_FOUND == -32018


async def test_execute_command_errors(client: DockyardClient) -> None:
    err = await client.rpc_error(client.command("dockyard.createTask", {"image": "x"}))
    assert err.code == -32602
    assert any(e["loc"] == ["title"] for e in _errors(err.data))

    err = await client.rpc_error(client.command("dockyard.getTask", {"taskId": "t-abcdef"}))
    assert err.code == -32010

    err = await client.rpc_error(client.command("dockyard.noSuchMethod", {}))
    assert err.code == -32602
    # the daemon is still fine afterwards
    assert await client.command("dockyard.listTasks", {}) == {"tasks": []}
