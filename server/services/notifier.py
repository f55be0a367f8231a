"""What services tell clients. The app implements it by queueing notifications onto the event loop."""

from __future__ import annotations

from typing import Protocol

from dockyard.protocol.task import Task


class Notifier(Protocol):
    def task_changed(self, task: Task) -> None: ...

    def status(self, counts: dict[str, int]) -> None: ...

    def output(self, task_id: str, exec_id: str, stream: str, data: str, seq: int) -> None: ...

    def exec_exited(self, exec_id: str, exit_code: int) -> None: ...

    def session_output(self, session_id: str, data: str, seq: int) -> None: ...

    def session_exited(self, session_id: str, exit_code: int | None) -> None: ...

    def log(self, message: str, level: str = "info") -> None: ...


class NullNotifier:
    """For the CLI's in-process use and unit tests: tells nobody."""

    def task_changed(self, task: Task) -> None:
        pass

    def status(self, counts: dict[str, int]) -> None:
        pass

    def output(self, task_id: str, exec_id: str, stream: str, data: str, seq: int) -> None:
        pass

    def exec_exited(self, exec_id: str, exit_code: int) -> None:
        pass

    def session_output(self, session_id: str, data: str, seq: int) -> None:
        pass

    def session_exited(self, session_id: str, exit_code: int | None) -> None:
        pass

    def log(self, message: str, level: str = "info") -> None:
        pass
