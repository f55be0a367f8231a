"""The task state machine as one table (DESIGN §4). Code and docs/state-machine.md both come from TRANSITIONS."""

from __future__ import annotations

from enum import StrEnum

from dockyard.protocol.task import TaskState as S


class Event(StrEnum):
    """What happens to a task; client operations and things Docker tells us."""

    CREATED = "created"  # container created and started
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    KILL = "kill"
    PAUSE = "pause"
    RESUME = "resume"
    REMOVE = "remove"
    FAIL = "fail"  # main process died, OOM, or an error while creating
    LOSE = "lose"  # container disappeared behind our back
    INTEGRATE = "integrate"  # task branch merged into its target
    CONFLICT = "conflict"  # integration stopped by a conflict; nothing changed


_INTEGRABLE = (S.RUNNING, S.PAUSED, S.STOPPED, S.FAILED, S.CONFLICTED, S.INTEGRATED)


_LIVE = (S.CREATING, S.RUNNING, S.PAUSED, S.STOPPED, S.FAILED, S.LOST, S.INTEGRATED, S.CONFLICTED)

TRANSITIONS: dict[tuple[S, Event], S] = {
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
    (S.CONFLICTED, Event.STOP): S.STOPPED,
    (S.INTEGRATED, Event.STOP): S.STOPPED,
    **{(state, Event.INTEGRATE): S.INTEGRATED for state in _INTEGRABLE},
    **{(state, Event.CONFLICT): S.CONFLICTED for state in _INTEGRABLE},
    **{(state, Event.REMOVE): S.REMOVED for state in _LIVE},
    **{(state, Event.LOSE): S.LOST for state in _LIVE if state is not S.LOST},
}


class IllegalTransition(Exception):
    def __init__(self, state: S, event: Event) -> None:
        super().__init__(f"{event.value} is not allowed in state {state.value}")
        self.state = state
        self.event = event


def next_state(state: S, event: Event) -> S:
    """The state after ``event``; raises IllegalTransition when the table has no such edge."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


def allowed_events(state: S) -> list[Event]:
    return [event for (src, event) in TRANSITIONS if src is state]


def mermaid() -> str:
    """The table as a Mermaid state diagram (docs/state-machine.md embeds exactly this)."""
    lines = ["stateDiagram-v2", "    [*] --> creating"]
    for (src, event), dst in TRANSITIONS.items():
        lines.append(f"    {src.value} --> {dst.value}: {event.value}")
    lines.append("    removed --> [*]")
    return "\n".join(lines) + "\n"


DOC_HEADER = """# Task state machine

Generated from `TRANSITIONS` in `server/services/statemachine.py` by
`python -m dockyard.server.services.statemachine`; `tests/unit/test_statemachine.py` fails when this
file and the table disagree. An operation that is not an edge here is answered with -32011 naming the
state and the operation.

"""


def write_doc(path: str = "docs/state-machine.md") -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(DOC_HEADER + "```mermaid\n" + mermaid() + "```\n")


if __name__ == "__main__":
    write_doc()
