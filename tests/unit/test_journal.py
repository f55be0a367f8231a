"""Journal: durability, torn tails vs corruption, replay, crash-safe compaction, multi-process use."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dockyard.server.adapters import journal as journal_mod
from dockyard.server.adapters.journal import Journal, Record, ReplayResult
from dockyard.server.adapters.locks import FileLock
from dockyard.server.errors import Busy, JournalCorrupt

CTX = mp.get_context("spawn")


# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "ws" / ".dockyard" / "state"


@pytest.fixture
def journal(state_dir: Path) -> Iterator[Journal]:
    j = Journal(state_dir, lock_timeout_s=2.0)
    j.open()
    yield j
    j.close()


def reopen(state_dir: Path) -> ReplayResult:
    j = Journal(state_dir, lock_timeout_s=2.0)
    try:
        return j.open()
    finally:
        j.close()


def fold(replay: ReplayResult) -> dict[str, int]:
    """The logical state: per-key sums of "add" records (a duplicate or a loss changes it)."""
    totals: dict[str, int] = dict((replay.state or {}).get("totals", {}))
    for rec in replay.records:
        totals[rec.data["k"]] = totals.get(rec.data["k"], 0) + rec.data["n"]
    return totals


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def independent_crc(obj: dict[str, Any]) -> str:
    body = {k: v for k, v in obj.items() if k != "crc"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{zlib.crc32(canon.encode('utf-8')):08x}"


def torn_files(state_dir: Path) -> list[Path]:
    return sorted(state_dir.glob("journal.jsonl.torn-*"))


# -- layout, format, durability ----------------------------------------------------------------


def test_open_creates_state_dir_and_gitignore(state_dir: Path, journal: Journal) -> None:
    assert journal.path == state_dir / "journal.jsonl"
    assert journal.path.exists()
    gitignore = (state_dir.parent / ".gitignore").read_text().splitlines()
    assert "state/" in gitignore and "tasks/" in gitignore


def test_existing_gitignore_is_left_alone(state_dir: Path) -> None:
    state_dir.parent.mkdir(parents=True)
    (state_dir.parent / ".gitignore").write_text("mine\n")
    reopen(state_dir)
    assert (state_dir.parent / ".gitignore").read_text() == "mine\n"


def test_line_format_and_crc(journal: Journal) -> None:
    rec = journal.append("task.created", {"id": "t-1", "title": "héllo ✓"})
    (raw,) = lines(journal.path)
    assert raw.endswith(b"\n") and b"\xc3\xa9" in raw  # UTF-8, not \u escapes
    obj = json.loads(raw)
    assert set(obj) == {"seq", "ts", "kind", "data", "crc"}
    assert obj["crc"] == independent_crc(obj)
    assert len(obj["crc"]) == 8
    assert (obj["seq"], obj["kind"], obj["data"]) == (1, "task.created", {"id": "t-1", "title": "héllo ✓"})
    assert datetime.fromisoformat(obj["ts"]).utcoffset() is not None
    assert rec == Record(seq=1, ts=obj["ts"], kind="task.created", data=obj["data"])


def test_replay_order_and_monotonic_seq(state_dir: Path, journal: Journal) -> None:
    for i in range(5):
        journal.append("add", {"k": f"k{i % 2}", "n": i})
    replay = reopen(state_dir)
    assert [r.seq for r in replay.records] == [1, 2, 3, 4, 5]
    assert [r.data["n"] for r in replay.records] == [0, 1, 2, 3, 4]
    assert replay.state is None and replay.warnings == []
    assert fold(replay) == {"k0": 6, "k1": 4}


def test_fsync_happens_before_append_returns(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync
    seen: list[tuple[str, bytes]] = []

    def spy(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        seen.append((target, Path(target).read_bytes() if os.path.isfile(target) else b""))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    journal.append("add", {"k": "a", "n": 1})
    synced = [content for target, content in seen if target == str(journal.path)]
    assert synced, f"journal never fsynced; fsynced: {[t for t, _ in seen]}"
    assert b'"seq":1' in synced[-1]


def test_unserialisable_data_writes_nothing(journal: Journal) -> None:
    with pytest.raises((TypeError, ValueError)):
        journal.append("bad", {"x": object()})
    with pytest.raises(ValueError):
        journal.append("bad", {"x": float("nan")})
    assert journal.path.read_bytes() == b""
    assert journal.append("ok", {}).seq == 1


def test_use_before_open_is_an_error(state_dir: Path) -> None:
    with pytest.raises(RuntimeError):
        Journal(state_dir).append("x", {})


# -- torn tail vs corruption -------------------------------------------------------------------


def _three(journal: Journal) -> None:
    for i in range(3):
        journal.append("add", {"k": "a", "n": i + 1})


def test_torn_tail_mid_line_is_set_aside(state_dir: Path, journal: Journal) -> None:
    _three(journal)
    data = journal.path.read_bytes()
    cut = len(data) - 10
    journal.path.write_bytes(data[:cut])
    replay = reopen(state_dir)
    assert [r.seq for r in replay.records] == [1, 2]
    assert len(replay.warnings) == 1 and "torn" in replay.warnings[0]
    line3_start = sum(len(x) for x in lines(journal.path)[:2])
    assert journal.path.read_bytes() == data[:line3_start]
    (aside,) = torn_files(state_dir)
    assert aside.read_bytes() == data[line3_start:cut]
    j = Journal(state_dir)
    j.open()
    assert j.append("add", {"k": "a", "n": 10}).seq == 3
    j.close()
    again = reopen(state_dir)
    assert again.warnings == [] and fold(again) == {"a": 13}


def test_complete_last_line_with_bad_crc_is_torn(state_dir: Path, journal: Journal) -> None:
    _three(journal)
    data = journal.path.read_bytes()
    bad = data.replace(b'"n":3', b'"n":4')
    assert bad != data
    journal.path.write_bytes(bad)
    replay = reopen(state_dir)
    assert [r.seq for r in replay.records] == [1, 2]
    assert "crc" in replay.warnings[0]
    (aside,) = torn_files(state_dir)
    assert aside.read_bytes() == lines(Path(aside))[0] == bad.splitlines(keepends=True)[2]


def test_bad_line_in_the_middle_raises_with_offset_and_keeps_everything(state_dir: Path, journal: Journal) -> None:
    for i in range(5):
        journal.append("add", {"k": "a", "n": i})
    original = lines(journal.path)
    line2 = bytearray(original[1])
    line2[line2.index(b'"kind"') + 2] ^= 0x01  # flip one bit in line 2 of 5
    damaged = original[0] + bytes(line2) + b"".join(original[2:])
    journal.path.write_bytes(damaged)
    with pytest.raises(JournalCorrupt) as info:
        reopen(state_dir)
    assert info.value.offset == len(original[0])
    assert info.value.data == {"path": str(journal.path), "offset": len(original[0])}
    assert journal.path.read_bytes() == damaged
    assert torn_files(state_dir) == []


def test_bad_line_followed_by_a_partial_line_is_corruption(state_dir: Path, journal: Journal) -> None:
    _three(journal)
    original = lines(journal.path)
    journal.path.write_bytes(original[0] + b"garbage\n" + original[2][:5])
    with pytest.raises(JournalCorrupt) as info:
        reopen(state_dir)
    assert info.value.offset == len(original[0])


def test_seq_going_backwards_is_corruption(state_dir: Path, journal: Journal) -> None:
    _three(journal)
    original = lines(journal.path)
    journal.path.write_bytes(b"".join(original) + original[1])  # valid crc, duplicate seq 2
    with pytest.raises(JournalCorrupt) as info:
        reopen(state_dir)
    assert info.value.offset == sum(map(len, original))


def test_crashed_writers_half_line_is_repaired_before_the_next_append(state_dir: Path, journal: Journal) -> None:
    journal.append("add", {"k": "a", "n": 1})
    with open(journal.path, "ab") as fh:  # another process died mid-write
        fh.write(b'{"crc":"0000')
    assert journal.append("add", {"k": "a", "n": 2}).seq == 2
    assert len(torn_files(state_dir)) == 1
    assert any("torn" in w for w in journal.tail().warnings)
    replay = reopen(state_dir)
    assert replay.warnings == [] and fold(replay) == {"a": 3}


# -- compaction --------------------------------------------------------------------------------


def test_compact_then_continue_seq(state_dir: Path, journal: Journal) -> None:
    _three(journal)
    journal.compact({"totals": {"a": 6}})
    assert journal.path.read_bytes() == b""
    snap = json.loads((state_dir / "snapshot.json").read_bytes())
    assert snap["seq"] == 3 and snap["crc"] == independent_crc(snap)
    assert journal.append("add", {"k": "a", "n": 4}).seq == 4
    replay = reopen(state_dir)
    assert replay.state == {"totals": {"a": 6}} and replay.snapshot_seq == 3
    assert [r.seq for r in replay.records] == [4]
    assert fold(replay) == {"a": 10}


class SimulatedCrash(Exception):
    pass


@pytest.mark.parametrize("step", ["tmp_written", "renamed", "journal_tmp_written", "journal_reset"])
def test_compaction_crash_at_each_step_loses_and_duplicates_nothing(
    state_dir: Path, journal: Journal, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    _three(journal)
    journal.compact({"totals": {"a": 6}})  # an older snapshot exists too
    for n in (10, 20, 30):
        journal.append("add", {"k": "b", "n": n})
    expected = fold(reopen(state_dir))
    assert expected == {"a": 6, "b": 60}

    def crash(at: str) -> None:
        if at == step:
            raise SimulatedCrash(at)

    monkeypatch.setattr(journal_mod, "_crash_point", crash)
    with pytest.raises(SimulatedCrash):
        journal.compact({"totals": expected})
    journal.close()
    monkeypatch.undo()

    replay = reopen(state_dir)
    assert fold(replay) == expected
    assert all(r.seq > replay.snapshot_seq for r in replay.records)
    assert not list(state_dir.glob("*.tmp"))
    j = Journal(state_dir)
    j.open()
    assert j.append("add", {"k": "b", "n": 1}).seq == 7
    j.close()


def test_bad_snapshot_crc_is_corruption(state_dir: Path, journal: Journal) -> None:
    _three(journal)
    journal.compact({"totals": {"a": 6}})
    snap = state_dir / "snapshot.json"
    snap.write_bytes(snap.read_bytes().replace(b'"a":6', b'"a":7'))
    with pytest.raises(JournalCorrupt) as info:
        reopen(state_dir)
    assert str(snap) in info.value.message and "crc" in info.value.message


def test_truncated_snapshot_is_corruption(state_dir: Path, journal: Journal) -> None:
    journal.compact({"totals": {}})
    snap = state_dir / "snapshot.json"
    snap.write_bytes(snap.read_bytes()[:-8])
    with pytest.raises(JournalCorrupt):
        reopen(state_dir)


def test_compact_keeps_foreign_records_the_state_has_not_seen(state_dir: Path) -> None:
    a, b = Journal(state_dir), Journal(state_dir)
    a.open(), b.open()
    a.append("add", {"k": "a", "n": 1})
    a.append("add", {"k": "a", "n": 2})
    assert [r.seq for r in b.tail().records] == [1, 2]
    a.append("add", {"k": "a", "n": 4})  # b has not seen seq 3 when it compacts
    b.compact({"totals": {"a": 3}})
    assert [r.seq for r in b.tail().records] == [3]
    replay = reopen(state_dir)
    assert replay.snapshot_seq == 2 and fold(replay) == {"a": 7}
    a.close(), b.close()


# -- several instances / processes -------------------------------------------------------------


def _appender(state_dir: str, proc: int, count: int, start: Any) -> None:
    j = Journal(Path(state_dir), lock_timeout_s=30.0)
    j.open()
    start.wait(30)
    for n in range(count):
        j.append("add", {"k": f"p{proc}", "n": n})
    j.close()


def test_two_processes_appending_concurrently(state_dir: Path) -> None:
    reopen(state_dir)
    start = CTX.Event()
    procs = [CTX.Process(target=_appender, args=(str(state_dir), p, 200, start)) for p in range(2)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    objs = [json.loads(raw) for raw in lines(state_dir / "journal.jsonl")]
    assert len(objs) == 400
    assert [o["seq"] for o in objs] == list(range(1, 401))
    for proc in range(2):
        assert [o["data"]["n"] for o in objs if o["data"]["k"] == f"p{proc}"] == list(range(200))
    assert len(reopen(state_dir).records) == 400


def test_threads_sharing_one_instance(journal: Journal) -> None:
    def work() -> None:
        for n in range(100):
            journal.append("add", {"k": "t", "n": n})

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [json.loads(x)["seq"] for x in lines(journal.path)] == list(range(1, 201))


def test_tail_returns_foreign_records_never_our_own(state_dir: Path) -> None:
    a, b = Journal(state_dir), Journal(state_dir)
    a.open(), b.open()
    a.append("add", {"k": "a", "n": 1})
    a.append("add", {"k": "a", "n": 2})
    own = b.append("add", {"k": "b", "n": 3})
    assert own.seq == 3
    assert [r.seq for r in b.tail().records] == [1, 2]
    assert [r.seq for r in a.tail().records] == [3]
    assert a.tail().records == [] and b.tail().records == []
    a.close(), b.close()


def test_catch_up_callback_sees_foreign_records_before_the_write(state_dir: Path) -> None:
    a, b = Journal(state_dir), Journal(state_dir)
    a.open(), b.open()
    seen: list[int] = []
    b.set_catch_up(lambda rec: seen.append(rec.seq))
    a.append("add", {"k": "a", "n": 1})
    with b.locked():
        assert seen == [1]
        assert b.append("add", {"k": "b", "n": 1}).seq == 2
        assert b.append("add", {"k": "b", "n": 2}).seq == 3  # re-entrant, no deadlock
    assert b.tail().records == []
    a.close(), b.close()


def test_tail_after_foreign_compaction_reports_reset(state_dir: Path) -> None:
    a, b = Journal(state_dir), Journal(state_dir)
    a.open(), b.open()
    _three(a)
    assert len(b.tail().records) == 3
    a.compact({"totals": {"a": 6}})
    a.append("add", {"k": "a", "n": 4})
    result = b.tail()
    assert result.reset and result.replay is not None
    assert result.replay.state == {"totals": {"a": 6}}
    assert [r.seq for r in result.replay.records] == [4]
    assert b.tail().records == [] and not b.tail().reset
    assert not a.tail().reset
    assert b.append("add", {"k": "b", "n": 1}).seq == 5
    assert [r.seq for r in a.tail().records] == [5]
    a.close(), b.close()


def test_foreign_compaction_found_while_appending(state_dir: Path) -> None:
    a, b = Journal(state_dir), Journal(state_dir)
    a.open(), b.open()
    _three(a)
    a.compact({"totals": {"a": 6}})
    resets: list[ReplayResult] = []
    b.set_catch_up(lambda rec: None, on_reset=resets.append)
    assert b.append("add", {"k": "b", "n": 1}).seq == 4
    assert len(resets) == 1 and resets[0].state == {"totals": {"a": 6}}
    c = Journal(state_dir)
    c.open()
    assert [r.seq for r in a.tail().records] == [4]
    a.compact({"totals": {"a": 6, "b": 1}})
    assert c.append("add", {"k": "c", "n": 1}).seq == 5  # no on_reset: the next tail reports it
    result = c.tail()
    assert result.reset and result.replay is not None
    assert result.replay.snapshot_seq == 4 and result.replay.records == []
    assert result.records == []  # its own seq 5 is not echoed back
    a.close(), b.close(), c.close()


def _hold_lock(path: str, ready: Any, release: Any) -> None:
    with FileLock(Path(path), 5.0):
        ready.set()
        release.wait(30)


def test_lock_held_by_another_process_gives_busy(state_dir: Path, journal: Journal) -> None:
    ready, release = CTX.Event(), CTX.Event()
    proc = CTX.Process(target=_hold_lock, args=(str(state_dir / "journal.lock"), ready, release))
    proc.start()
    try:
        assert ready.wait(30)
        slow = Journal(state_dir, lock_timeout_s=0.3)
        with pytest.raises(Busy) as info:
            slow.open()
        assert "journal lock busy" in info.value.message
        journal._timeout = 0.3
        with pytest.raises(Busy):
            journal.append("add", {"k": "a", "n": 1})
        assert journal.tail().busy
    finally:
        release.set()
        proc.join(30)
    assert journal.append("add", {"k": "a", "n": 1}).seq == 1


def test_locked_excludes_other_writers(state_dir: Path, journal: Journal) -> None:
    other = Journal(state_dir, lock_timeout_s=0.2)
    other.open()
    with journal.locked():
        journal.append("add", {"k": "a", "n": 1})
        with pytest.raises(Busy):
            other.append("add", {"k": "o", "n": 1})
        assert other.tail().busy
    assert other.append("add", {"k": "o", "n": 1}).seq == 2
    other.close()
