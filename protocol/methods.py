"""Method and notification names of the Dockyard protocol (DESIGN §4). Clients and tests use these constants."""

from __future__ import annotations

PROTOCOL_VERSION = "1.0"
COMMAND_PREFIX = "dockyard."  # workspace/executeCommand name = COMMAND_PREFIX + method suffix

# Requests, client -> daemon
CREATE_TASK = "dockyard/createTask"
LIST_TASKS = "dockyard/listTasks"
GET_TASK = "dockyard/getTask"
START_TASK = "dockyard/startTask"
STOP_TASK = "dockyard/stopTask"
RESTART_TASK = "dockyard/restartTask"
KILL_TASK = "dockyard/killTask"
PAUSE_TASK = "dockyard/pauseTask"
RESUME_TASK = "dockyard/resumeTask"
REMOVE_TASK = "dockyard/removeTask"
EXEC = "dockyard/exec"
LOGS = "dockyard/logs"
OPEN_SESSION = "dockyard/openSession"
SESSION_INPUT = "dockyard/sessionInput"
RESIZE_SESSION = "dockyard/resizeSession"
CLOSE_SESSION = "dockyard/closeSession"
# Later issues (git layer, checkpoints, agents, orchestration); named here so clients can feature-detect.
DIFF_TASK = "dockyard/diffTask"
INTEGRATE_TASK = "dockyard/integrateTask"
CHECKPOINT_TASK = "dockyard/checkpointTask"
LIST_CHECKPOINTS = "dockyard/listCheckpoints"
RESTORE_CHECKPOINT = "dockyard/restoreCheckpoint"
ATTACH_AGENT = "dockyard/attachAgent"
DETACH_AGENT = "dockyard/detachAgent"
GET_PLAN = "dockyard/getPlan"
CREATE_SUBTASKS = "dockyard/createSubtasks"
RUN_PLAN = "dockyard/runPlan"
CANCEL_RUN = "dockyard/cancelRun"

# Notifications, daemon -> every client
TASK_CHANGED = "dockyard/taskChanged"
OUTPUT = "dockyard/output"
EXEC_EXITED = "dockyard/execExited"
SESSION_OUTPUT = "dockyard/sessionOutput"
SESSION_EXITED = "dockyard/sessionExited"
STATUS = "dockyard/status"

ALL_REQUESTS: tuple[str, ...] = (
    CREATE_TASK,
    LIST_TASKS,
    GET_TASK,
    START_TASK,
    STOP_TASK,
    RESTART_TASK,
    KILL_TASK,
    PAUSE_TASK,
    RESUME_TASK,
    REMOVE_TASK,
    EXEC,
    LOGS,
    OPEN_SESSION,
    SESSION_INPUT,
    RESIZE_SESSION,
    CLOSE_SESSION,
    DIFF_TASK,
    INTEGRATE_TASK,
    CHECKPOINT_TASK,
    LIST_CHECKPOINTS,
    RESTORE_CHECKPOINT,
    ATTACH_AGENT,
    DETACH_AGENT,
    GET_PLAN,
    CREATE_SUBTASKS,
    RUN_PLAN,
    CANCEL_RUN,
)
ALL_NOTIFICATIONS: tuple[str, ...] = (TASK_CHANGED, OUTPUT, EXEC_EXITED, SESSION_OUTPUT, SESSION_EXITED, STATUS)


def command_name(method: str) -> str:
    """`dockyard/createTask` -> `dockyard.createTask` (the workspace/executeCommand name)."""
    return COMMAND_PREFIX + method.split("/", 1)[1]


def method_for_command(command: str) -> str | None:
    """Inverse of :func:`command_name`; None for commands that are not Dockyard methods."""
    if not command.startswith(COMMAND_PREFIX):
        return None
    method = "dockyard/" + command[len(COMMAND_PREFIX) :]
    return method if method in ALL_REQUESTS else None
