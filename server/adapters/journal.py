"""The journal: the only writer of ``<workspace>/.dockyard/state/``.

Processes (daemons, CLI, MCP) share task state only through this append-only log, so every write
happens under one cross-process lock (``journal.lock``), reads what other processes appended first
(so ``seq`` never repeats), and is fsynced before ``append`` returns. Other processes follow it
with ``tail()``. ``compact()`` folds it into ``snapshot.json`` crash-safely.

Secrets are not this module's job: callers redact ``data`` before appending; whatever is passed
here is written to disk verbatim and kept forever.

Torn tail (a crash mid-write) is set aside into ``journal.jsonl.torn-<ts>`` and truncated away
with a warning; damage in the middle raises ``JournalCorrupt`` and nothing is discarded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dockyard.server.adapters.journal_format import (
    Record,
    Torn,
    decode_line,
    decode_snapshot,
    encode_record,
    encode_snapshot,
    scan,
    utc_now_iso,
)
from dockyard.server.adapters.locks import FileLock
from dockyard.server.errors import Busy, RevisionConflict

__all__ = ["Journal", "Record", "ReplayResult", "TailResult"]

JOURNAL_NAME = "journal.jsonl"
SNAPSHOT_NAME = "snapshot.json"
LOCK_NAME = "journal.lock"
GITIGNORE_TEXT = "state/\ntasks/\n"


def _no_crash(step: str) -> None:
    """Default of the test seam below: compaction does not crash."""


# Test seam: called by ``compact`` after "tmp_written", "renamed", "journal_tmp_written" and
# "journal_reset"; a test replaces it with something that raises to simulate a crash there.
_crash_point: Callable[[str], None] = _no_crash


@dataclass
class ReplayResult:
    """Everything needed to rebuild state: snapshot ``state`` (or None), then ``records`` in order."""

    state: dict[str, Any] | None
    records: list[Record]
    warnings: list[str] = field(default_factory=list)
    snapshot_seq: int = 0


@dataclass
class TailResult:
    """What changed since the last look. If ``reset``: rebuild from ``replay``, then apply ``records``.

    ``busy`` means another process held the lock, so nothing was read this time; poll again.
    """

    records: list[Record] = field(default_factory=list)
    reset: bool = False
    replay: ReplayResult | None = None
    warnings: list[str] = field(default_factory=list)
    busy: bool = False


def _fsync_dir(path: Path) -> None:
    """Make a rename/creation in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_file_durably(path: Path, data: bytes) -> None:
    """Create/replace ``path`` with ``data`` and fsync it (not the directory)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """Append-only, CRC-checked, cross-process journal of one workspace."""

    def __init__(self, state_dir: Path, lock_timeout_s: float = 10.0) -> None:
        self._dir = Path(state_dir)
        self._timeout = lock_timeout_s
        self._mutex = threading.RLock()
        self._lock: FileLock | None = None
        self._depth = 0
        self._fd: int | None = None
        self._offset = 0
        self._last_seq = 0
        self._generation = 0
        self._pending: list[Record] = []
        self._pending_reset: ReplayResult | None = None
        self._warnings: list[str] = []
        self._catch_up: Callable[[Record], None] | None = None
        self._on_reset: Callable[[ReplayResult], None] | None = None

    @classmethod
    def for_workspace(cls, workspace: Path, lock_timeout_s: float = 10.0) -> Journal:
        return cls(Path(workspace) / ".dockyard" / "state", lock_timeout_s)

    @property
    def path(self) -> Path:
        return self._dir / JOURNAL_NAME

    @property
    def snapshot_path(self) -> Path:
        return self._dir / SNAPSHOT_NAME

    @property
    def lock_path(self) -> Path:
        return self._dir / LOCK_NAME

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def set_catch_up(
        self,
        callback: Callable[[Record], None] | None,
        on_reset: Callable[[ReplayResult], None] | None = None,
    ) -> None:
        """Receive foreign records found when taking the write lock, before the caller mutates.

        Without ``callback`` they are queued for the next ``tail()``. A foreign compaction found
        there goes to ``on_reset``, or (without it) is reported by the next ``tail()``.
        Callbacks run under the lock and must not raise.
        """
        with self._mutex:
            self._catch_up = callback
            self._on_reset = on_reset

    def open(self) -> ReplayResult:
        """Load snapshot + replay the journal, repairing a torn tail; raises ``JournalCorrupt``."""
        with self._mutex:
            self._prepare_dirs()
            with self._exclusive():
                for leftover in (self.snapshot_path, self.path):
                    leftover.with_name(leftover.name + ".tmp").unlink(missing_ok=True)
                result = self._load(repair=True)
            self._pending.clear()
            self._pending_reset = None
            self._warnings.clear()
            return result

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    @contextmanager
    def locked(self) -> Iterator[Journal]:
        """Hold the exclusive lock across read-modify-append; re-entrant in this thread.

        On first entry, records other processes appended are delivered (see ``set_catch_up``).
        """
        self._require_open()
        with self._mutex, self._exclusive() as first:
            if first:
                self._catch_up_locked()
            yield self

    def append(self, kind: str, data: dict[str, Any]) -> Record:
        """Write one record durably (fsynced before returning) and return it as replay will see it."""
        with self.locked():
            draft = Record(seq=self._last_seq + 1, ts=utc_now_iso(), kind=kind, data=data)
            line = encode_record(draft)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except BaseException:
                with suppress(OSError):  # don't leave a half line for the next append
                    os.ftruncate(fd, self._offset)
                raise
            finally:
                os.close(fd)
            self._offset += len(line)
            self._last_seq = draft.seq
            return decode_line(line[:-1])

    def tail(self) -> TailResult:
        """Non-blocking: records other processes appended since our last look (never our own)."""
        self._require_open()
        if not self._mutex.acquire(blocking=False):
            return TailResult(busy=True)
        try:
            if self._depth > 0:
                return self._tail_locked(repair=True)
            shared = FileLock(self.lock_path, 0.0, shared=True, what="journal lock")
            try:
                shared.acquire()
            except Busy:
                return TailResult(busy=True)
            try:
                return self._tail_locked(repair=False)
            finally:
                shared.release()
        finally:
            self._mutex.release()

    def compact(self, state: dict[str, Any]) -> None:
        """Replace history up to what ``state`` reflects with a snapshot, crash-safely.

        ``state`` must reflect every record this instance has delivered (appended, returned by
        ``open``/``tail`` or handed to the catch-up callback); records found only now are kept.
        """
        self._require_open()
        with self._mutex:
            if self._pending_reset is not None:
                raise RevisionConflict("journal was compacted by another process; tail() and retry")
            snap_seq = self._pending[0].seq - 1 if self._pending else self._last_seq
            payload = encode_snapshot(snap_seq, state)
            generation = self._generation
            with self.locked():
                if generation != self._generation:
                    raise RevisionConflict("journal was compacted by another process; retry")
                self._compact_locked(snap_seq, payload)

    # -- internals -------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self._fd is None:
            raise RuntimeError("Journal.open() must be called first")

    def _prepare_dirs(self) -> None:
        """Create the state dir and, for a workspace layout, ``.dockyard/.gitignore``."""
        self._dir.mkdir(parents=True, exist_ok=True)
        dockyard = self._dir.parent
        if dockyard.name != ".dockyard":
            return
        try:
            fd = os.open(dockyard / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return
        try:
            _write_all(fd, GITIGNORE_TEXT.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """Hold the cross-process lock (caller holds ``_mutex``); yields True on first entry."""
        first = self._depth == 0
        if first:
            lock = FileLock(self.lock_path, self._timeout, what="journal lock")
            lock.acquire()
            self._lock = lock
        self._depth += 1
        try:
            yield first
        finally:
            self._depth -= 1
            if self._depth == 0 and self._lock is not None:
                self._lock.release()
                self._lock = None

    def _load(self, *, repair: bool) -> ReplayResult:
        """Read snapshot + whole journal (under a lock) and follow the current journal inode."""
        snap_seq, state = 0, None
        try:
            raw = self.snapshot_path.read_bytes()
        except FileNotFoundError:
            pass
        else:
            snap_seq, state = decode_snapshot(raw, str(self.snapshot_path))
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = fd
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        found = scan(data, 0, 0, str(self.path))
        warnings = self._handle_torn(found.torn, repair)
        self._offset = found.good_end
        file_last = found.records[-1][1].seq if found.records else 0
        self._last_seq = max(snap_seq, file_last)
        self._generation += 1
        records = [rec for _, rec in found.records if rec.seq > snap_seq]
        return ReplayResult(state=state, records=records, warnings=warnings, snapshot_seq=snap_seq)

    def _handle_torn(self, torn: Torn | None, repair: bool) -> list[str]:
        """Under the exclusive lock, move torn bytes aside and truncate; otherwise leave them."""
        if torn is None:
            return []
        if not repair:
            return []  # the next writer (holding the exclusive lock) repairs and reports it
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self._dir / f"{JOURNAL_NAME}.torn-{stamp}"
        with open(aside, "ab") as fh:
            fh.write(torn.raw)
            fh.flush()
            os.fsync(fh.fileno())
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.ftruncate(fd, torn.offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(self._dir)
        return [
            f"journal {self.path}: torn tail of {len(torn.raw)} bytes at offset {torn.offset} "
            f"({torn.detail}) moved to {aside}; journal truncated to the last complete record"
        ]

    def _replaced(self) -> bool:
        """True when the journal we follow was swapped (compaction) or shrank under us."""
        assert self._fd is not None
        mine = os.fstat(self._fd)
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return True
        same = (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
        return not same or mine.st_size < self._offset

    def _read_new(self, *, repair: bool) -> tuple[list[Record], list[str], ReplayResult | None]:
        """Records appended after our offset, or a fresh replay if the file was replaced."""
        if self._replaced():
            replay = self._load(repair=repair)
            return [], replay.warnings, replay
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size - self._offset, self._offset)
        found = scan(data, self._offset, self._last_seq, str(self.path))
        warnings = self._handle_torn(found.torn, repair)
        self._offset = found.good_end
        if found.records:
            self._last_seq = found.records[-1][1].seq
        return [rec for _, rec in found.records], warnings, None

    def _catch_up_locked(self) -> None:
        """Deliver foreign changes before the caller mutates (exclusive lock held)."""
        records, warnings, replay = self._read_new(repair=True)
        self._warnings.extend(warnings)
        if replay is not None:
            self._pending.clear()
            if self._on_reset is not None:
                self._pending_reset = None
                self._on_reset(replay)
            else:
                self._pending_reset = replay
            return
        for rec in records:
            if self._catch_up is not None:
                self._catch_up(rec)
            else:
                self._pending.append(rec)

    def _tail_locked(self, *, repair: bool) -> TailResult:
        """Body of ``tail`` once a lock is held: queued items first, then the file."""
        records, warnings, replay = self._read_new(repair=repair)
        result = TailResult(warnings=[*self._warnings, *warnings])
        self._warnings.clear()
        if replay is None:  # a fresh replay supersedes anything queued before it
            result.records = [*self._pending, *records]
            replay = self._pending_reset
        result.reset, result.replay = replay is not None, replay
        self._pending_reset = None
        self._pending.clear()
        return result

    def _compact_locked(self, snap_seq: int, payload: bytes) -> None:
        """Snapshot, then swap in a journal holding only records newer than ``snap_seq``."""
        tmp = self.snapshot_path.with_name(SNAPSHOT_NAME + ".tmp")
        _write_file_durably(tmp, payload)
        _crash_point("tmp_written")
        os.replace(tmp, self.snapshot_path)
        _fsync_dir(self._dir)
        _crash_point("renamed")
        assert self._fd is not None
        data = os.pread(self._fd, self._offset, 0)
        found = scan(data, 0, 0, str(self.path))
        newer = [off for off, rec in found.records if rec.seq > snap_seq]
        keep = data[newer[0] : found.good_end] if newer else b""
        jtmp = self.path.with_name(JOURNAL_NAME + ".tmp")
        _write_file_durably(jtmp, keep)
        _crash_point("journal_tmp_written")
        os.replace(jtmp, self.path)
        _fsync_dir(self._dir)
        fd = os.open(self.path, os.O_RDONLY)
        os.close(self._fd)
        self._fd, self._offset = fd, len(keep)
        _crash_point("journal_reset")
