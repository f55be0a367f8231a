"""The state table: every (state, event) pair is either in the table or refused; docs match the table."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from dockyard.protocol.task import TaskState as S
from dockyard.server.services.statemachine import (
    TRANSITIONS,
    Event,
    IllegalTransition,
    allowed_events,
    mermaid,
    next_state,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "state-machine.md"

# DESIGN §4, written out independently of the table so a wrong edit to either is caught.
EXPECTED = {
    (S.CREATING, Event.CREATED): S.RUNNING,
    (S.CREATING, Event.FAIL): S.FAILED,
    (S.RUNNING, Event.PAUSE): S.PAUSED,
    (S.PAUSED, Event.RESUME): S.RUNNING,
    (S.RUNNING, Event.STOP): S.STOPPED,
    (S.PAUSED, Event.STOP): S.STOPPED,
    (S.RUNNING, Event.KILL): S.STOPPED,
    (S.PAUSED, Event.KILL): S.STOPPED,
    (S.STOPPED, Event.START): S.RUNNING,
    (S.FAILED, Event.START): S.RUNNING,
    (S.RUNNING, Event.RESTART): S.RUNNING,
    (S.STOPPED, Event.RESTART): S.RUNNING,
    (S.FAILED, Event.RESTART): S.RUNNING,
    (S.RUNNING, Event.FAIL): S.FAILED,
    (S.PAUSED, Event.FAIL): S.FAILED,
}
EXPECTED[(S.CONFLICTED, Event.STOP)] = S.STOPPED
EXPECTED[(S.INTEGRATED, Event.STOP)] = S.STOPPED
for _state in (S.RUNNING, S.PAUSED, S.STOPPED, S.FAILED, S.CONFLICTED, S.INTEGRATED):
    EXPECTED[(_state, Event.INTEGRATE)] = S.INTEGRATED
    EXPECTED[(_state, Event.CONFLICT)] = S.CONFLICTED
for _state in S:
    if _state is not S.REMOVED:
        EXPECTED[(_state, Event.REMOVE)] = S.REMOVED
        if _state is not S.LOST:
            EXPECTED[(_state, Event.LOSE)] = S.LOST

ALL_PAIRS = list(itertools.product(S, Event))


@pytest.mark.parametrize(("state", "event"), [p for p in ALL_PAIRS if p in EXPECTED])
def test_legal_transition(state: S, event: Event) -> None:
    assert next_state(state, event) is EXPECTED[(state, event)]


@pytest.mark.parametrize(("state", "event"), [p for p in ALL_PAIRS if p not in EXPECTED])
def test_illegal_transition_is_refused(state: S, event: Event) -> None:
    with pytest.raises(IllegalTransition) as info:
        next_state(state, event)
    assert info.value.state is state and info.value.event is event
    assert state.value in str(info.value) and event.value in str(info.value)


def test_table_has_exactly_the_designed_edges() -> None:
    assert dict(TRANSITIONS) == EXPECTED


def test_removed_is_terminal() -> None:
    assert allowed_events(S.REMOVED) == []


def test_paused_task_cannot_be_started_or_paused_again() -> None:
    assert Event.START not in allowed_events(S.PAUSED)
    assert Event.PAUSE not in allowed_events(S.PAUSED)


def test_docs_diagram_is_generated_from_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "```mermaid\n" + mermaid() + "```" in text, "run: python -m dockyard.server.services.statemachine"
