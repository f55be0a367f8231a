"""Wire models: camelCase round trips, refusals, the schema file is current, method/command names."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from dockyard.protocol import methods as m
from dockyard.protocol.exec import ExecParams, ExecResult, Session
from dockyard.protocol.registry import METHODS, NOTIFICATIONS
from dockyard.protocol.schema import build_schema, render
from dockyard.protocol.task import CreateTaskParams, Resources, Task, TaskState

ROOT = Path(__file__).resolve().parents[2]


def _task() -> Task:
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Task(
        id="t-abc123",
        title="t",
        state=TaskState.RUNNING,
        image="img",
        container_id="c" * 64,
        created_at=stamp,
        updated_at=stamp,
        revision=3,
        resources=Resources(memory_mb=512, cpus=1.0, pids=64),
        labels={"com.example.owner": "me"},
    )


def test_task_round_trips_in_camel_case() -> None:
    wire = _task().to_wire()
    assert wire["containerId"] == "c" * 64 and wire["createdAt"] == "2026-01-02T03:04:05Z"
    assert wire["resources"] == {"memoryMb": 512, "cpus": 1.0, "pids": 64}
    assert wire["labels"] == {"com.example.owner": "me"}
    assert "reason" not in wire  # None fields are left out
    assert Task.model_validate(json.loads(json.dumps(wire))) == _task()


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "bogus": 1}, "bogus"),
        ({"title": "ok", "resources": {"memoryMb": 1}}, "resources"),
        ({"title": "ok", "parentId": "../../etc"}, "parentId"),
        ({"title": "ok", "env": {"BAD NAME": "v"}}, "env"),
    ],
)
def test_create_params_refused(params: dict[str, object], loc: str) -> None:
    with pytest.raises(ValidationError) as info:
        CreateTaskParams.model_validate(params)
    assert any(loc in [str(p) for p in e["loc"]] for e in info.value.errors())


def test_snake_and_camel_both_accepted_for_params() -> None:
    assert ExecParams.model_validate({"taskId": "t-abc123", "command": "ls", "timeoutS": 2}).timeout_s == 2
    assert ExecParams.model_validate({"task_id": "t-abc123", "command": ["ls"]}).command == ["ls"]


def test_results_serialise_camel_case() -> None:
    result = ExecResult(exec_id="e-1", exit_code=0, duration_ms=5, truncated=False)
    assert result.to_wire()["execId"] == "e-1" and result.to_wire()["durationMs"] == 5
    session = Session(session_id="s-abcdef", task_id="t-abc123", command=["sh"], cols=80, rows=24, state="open")
    assert session.to_wire()["sessionId"] == "s-abcdef"


def test_schema_file_is_current() -> None:
    path = ROOT / "docs" / "protocol.schema.json"
    assert path.read_text(encoding="utf-8") == render(), "run: python -m dockyard.protocol.schema"


def test_schema_names_every_method_and_notification() -> None:
    schema = build_schema()
    assert set(schema["methods"]) == set(METHODS)
    assert set(schema["notifications"]) == set(m.ALL_NOTIFICATIONS) == set(NOTIFICATIONS)
    assert schema["errorCodes"]["POLICY_REFUSED"] == -32015
    for entry in schema["methods"].values():
        assert entry["params"]["$ref"].split("/")[-1] in schema["$defs"]


def test_command_names_map_both_ways() -> None:
    for method in m.ALL_REQUESTS:
        assert m.method_for_command(m.command_name(method)) == method
    assert m.method_for_command("dockyard.nope") is None
    assert m.method_for_command("other.createTask") is None


def test_reference_doc_is_current() -> None:
    from dockyard.protocol.reference import render as render_reference

    path = ROOT / "docs" / "protocol.md"
    assert path.read_text(encoding="utf-8") == render_reference(), "run: python -m dockyard.protocol.reference"
