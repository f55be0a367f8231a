"""Cross-process advisory file locks (portalocker) that fail with our ``Busy``, never hang.

Processes (daemons, the CLI, MCP servers) coordinate only through files; a lock that waits
forever would freeze a client, so every acquisition has a deadline and reports which file
was contended. The journal uses this; the git layer takes one per repository.

The lock is tied to the open file description: two ``FileLock`` objects on the same path
exclude each other even inside one process, so in-process re-entrance is the caller's job
(the journal keeps a ``threading.RLock`` and a depth counter in front of this).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

import portalocker

from dockyard.server.errors import Busy

DEFAULT_POLL_S = 0.01


class FileLock:
    """Exclusive (or shared) lock on ``path``, created if missing; ``Busy`` after ``timeout_s``."""

    def __init__(
        self,
        path: Path,
        timeout_s: float,
        shared: bool = False,
        *,
        what: str = "lock",
        poll_s: float = DEFAULT_POLL_S,
    ) -> None:
        self.path = Path(path)
        self.timeout_s = max(0.0, timeout_s)
        self.shared = shared
        self.what = what
        self.poll_s = poll_s
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, polling without blocking so the deadline is ours, not the kernel's."""
        if self._fd is not None:
            raise RuntimeError(f"{self.what} {self.path} is already held by this FileLock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        kind = portalocker.LockFlags.SHARED if self.shared else portalocker.LockFlags.EXCLUSIVE
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                try:
                    portalocker.lock(fd, kind | portalocker.LockFlags.NON_BLOCKING)
                    break
                except portalocker.AlreadyLocked:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Busy(
                            f"{self.what} busy: {self.path} is held by another process (waited {self.timeout_s:g}s)",
                            {"path": str(self.path), "timeoutS": self.timeout_s},
                        ) from None
                    time.sleep(min(self.poll_s, remaining))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Drop the lock; closing the descriptor releases it even if unlock fails."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            portalocker.unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
