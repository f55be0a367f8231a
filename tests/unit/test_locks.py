"""FileLock: cross-process exclusion, shared readers, and a bounded wait that ends in ``Busy``."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import pytest

from dockyard.server.adapters.locks import FileLock
from dockyard.server.errors import Busy

CTX = mp.get_context("spawn")


def _hold(path: str, shared: bool, ready: Any, release: Any, hold_s: float) -> None:
    """Child process: take the lock, say so, keep it until told (or for ``hold_s``)."""
    with FileLock(Path(path), 5.0, shared=shared):
        ready.set()
        release.wait(hold_s)


class Holder:
    """A lock held by another process for the duration of a ``with`` block."""

    def __init__(self, path: Path, shared: bool = False, hold_s: float = 30.0) -> None:
        self.ready, self.release = CTX.Event(), CTX.Event()
        self.proc = CTX.Process(target=_hold, args=(str(path), shared, self.ready, self.release, hold_s))

    def __enter__(self) -> Holder:
        self.proc.start()
        assert self.ready.wait(30), "child never took the lock"
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.proc.join(30)
        assert self.proc.exitcode == 0


def test_acquire_creates_file_and_release_allows_reacquire(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "x.lock"
    lock = FileLock(path, 1.0)
    with lock:
        assert lock.held
        assert path.exists()
    assert not lock.held
    with FileLock(path, 0.0):
        pass


def test_two_locks_exclude_each_other_even_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with FileLock(path, 1.0), pytest.raises(Busy):
        FileLock(path, 0.05).acquire()


def test_busy_names_the_path_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "repo.lock"
    with Holder(path):
        start = time.monotonic()
        with pytest.raises(Busy) as info:
            FileLock(path, 0.3, what="repo lock").acquire()
        waited = time.monotonic() - start
    assert str(path) in info.value.message
    assert "repo lock busy" in info.value.message
    assert info.value.data["path"] == str(path)
    assert 0.3 <= waited < 5


def test_waits_for_a_holder_that_lets_go_in_time(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with Holder(path, hold_s=0.3), FileLock(path, 10.0) as lock:
        assert lock.held


def test_shared_locks_coexist_but_block_exclusive(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with Holder(path, shared=True):
        with FileLock(path, 0.5, shared=True) as lock:
            assert lock.held
        with pytest.raises(Busy):
            FileLock(path, 0.1).acquire()


def test_exclusive_holder_blocks_shared(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with Holder(path), pytest.raises(Busy):
        FileLock(path, 0.1, shared=True).acquire()


def test_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with pytest.raises(ValueError), FileLock(path, 1.0):
        raise ValueError("boom")
    with FileLock(path, 0.0):
        pass


def test_double_acquire_on_one_object_is_a_bug(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "x.lock", 1.0)
    with lock, pytest.raises(RuntimeError):
        lock.acquire()
