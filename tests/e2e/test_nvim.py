"""The Neovim plugin (client-nvim/) end to end: headless Neovim, the real daemon, a real engine.

``nvim --headless -u NONE`` loads the plugin from client-nvim/ (runtimepath) and runs
``client-nvim/test/e2e.lua``, which drives the plugin the way a user would (``:Dockyard list``, ``new``,
``run``, ``pause``, ``terminal``, ``status``, ``logs``, ``remove`` ...) against ``dockyard serve --stdio``
started by Neovim's built-in LSP client for a fresh workspace, and writes what it saw to a JSON report.
This test asserts on that report. Every wait inside Neovim is bounded, the script has a global deadline,
and the process has a timeout here, so nothing can hang.

Neovim and Docker are required: a missing ``nvim`` or engine fails the test (``DOCKYARD_NVIM`` picks
another binary, e.g. a newer release). Containers labelled ``dockyard.workspace=<workspace>`` are removed
at teardown by the ``workspace`` fixture (tests/e2e/conftest.py) with docker-py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "client-nvim"
SCRIPT = PLUGIN / "test" / "e2e.lua"
TESTBOX = "dockyard/testbox:0.1.0"
XDG_VARS = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
DAEMON = [sys.executable, "-m", "dockyard.server", "serve", "--stdio"]
NVIM_TIMEOUT_S = int(os.environ.get("DOCKYARD_NVIM_TIMEOUT_S", "200"))
DEADLINE_MS = (NVIM_TIMEOUT_S - 20) * 1000


def nvim_binary() -> str:
    name = os.environ.get("DOCKYARD_NVIM", "nvim")
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name!r} not found: install Neovim >= 0.7 (bash scripts/test-nvim.sh does, via apt)")
    return found


def lsp_log(home: Path) -> str:
    logs = sorted(home.rglob("lsp.log"))
    return "\n".join(p.read_text(errors="replace")[-4000:] for p in logs) or "(no lsp.log)"


def _text(data: bytes | str | None) -> str:
    text = data.decode(errors="replace") if isinstance(data, bytes) else (data or "")
    return text[-3000:]


def run_nvim(workspace: Path, home: Path) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    report = home / "report.json"
    env = {
        **os.environ,
        "DOCKYARD_TEST_ROOT": str(workspace),
        "DOCKYARD_TEST_CMD": json.dumps(DAEMON),
        "DOCKYARD_TEST_IMAGE": TESTBOX,
        "DOCKYARD_TEST_RESULT": str(report),
        "DOCKYARD_TEST_DEADLINE_MS": str(DEADLINE_MS),
        "DOCKYARD_TEST_SCRIPT": str(SCRIPT),
        "DOCKYARD_NVIM_RTP": str(PLUGIN),
        "PYTHONUNBUFFERED": "1",
        # Keep Neovim's log, state and cache (lsp.log lives there) inside the test's tmp dir.
        **{var: str(home / var.lower()) for var in XDG_VARS},
    }
    command = [
        nvim_binary(),
        "--headless",
        "-u",
        "NONE",
        "-i",
        "NONE",
        "-n",
        "--cmd",
        "lua vim.opt.runtimepath:prepend(os.getenv('DOCKYARD_NVIM_RTP'))",
        "-c",
        "lua dofile(os.getenv('DOCKYARD_TEST_SCRIPT'))",
    ]
    try:
        proc = subprocess.run(
            command,
            cwd=workspace,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=NVIM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed nvim by now
        pytest.fail(
            f"nvim did not finish in {NVIM_TIMEOUT_S}s\nstdout:\n{_text(exc.stdout)}\nstderr:\n{_text(exc.stderr)}"
            f"\nreport: {report.read_text() if report.exists() else '(none)'}\nlsp.log:\n{lsp_log(home)}"
        )
    if not report.exists():
        pytest.fail(
            f"nvim wrote no report (exit {proc.returncode})\nstdout:\n{proc.stdout[-3000:]}\n"
            f"stderr:\n{proc.stderr[-3000:]}\nlsp.log:\n{lsp_log(home)}"
        )
    return json.loads(report.read_text()), proc


def test_neovim_plugin_drives_the_daemon(workspace: Path, docker_engine: docker.DockerClient, tmp_path: Path) -> None:
    home = tmp_path / "nvim-home"
    home.mkdir()
    report, proc = run_nvim(workspace, home)
    context = f"report: {json.dumps(report, indent=1)[:6000]}\nstderr: {proc.stderr[-2000:]}\nlsp.log:\n{lsp_log(home)}"
    assert report["ok"], report.get("error", "") + "\n" + context
    assert proc.returncode == 0, context
    version = subprocess.run([nvim_binary(), "--version"], capture_output=True, text=True, check=True, timeout=30)
    assert f"NVIM v{report['nvim']}" in version.stdout, (report["nvim"], version.stdout[:200])
    messages = [n["msg"] for n in report["notifications"]]
    assert not [m for m in messages if "deprecat" in m.lower()], messages

    # initialize: the daemon's capabilities, feature detection
    info = report["info"]
    assert info["protocolVersion"] and info["serverVersion"], info
    assert "dockyard/createTask" in info["features"]
    assert report["attached"] is True  # the file buffer current at start is attached (buf_attach_client)
    assert report["supports"] == {
        "createTask": True,
        "checkpointTask": "dockyard/checkpointTask" in info["features"],
    }
    assert report["statusline_before"] == ""
    assert "(no tasks)" in report["list_empty"]
    # a subcommand whose method the daemon lacks: a plain notice, no request
    unsupported = report.get("unsupported")
    if unsupported is not None:  # (None once the daemon implements every method)
        assert unsupported["method"] not in info["features"]
        notice = unsupported["notice"]
        assert f"does not implement {unsupported['method']}" in notice["msg"], notice
        assert notice["level"] == 3  # vim.log.levels.WARN

    # completion
    assert "pause" in report["complete_sub"]
    assert report["complete_new"] == ["--image="]
    task = report["task"]
    assert report["complete_id"] == [task["id"]]

    # :Dockyard new: a real, labelled container in this workspace
    assert task["image"] == TESTBOX and task["state"] == "running"
    assert task["labels"]["dockyard.workspace"] == str(workspace)
    assert report["statusline_running"] == "⚓ 1▶ 0⏸ 0✗"

    # :Dockyard run: output streamed into dockyard://output/<id>, partial lines joined, exit codes shown
    assert report["output_name"] == f"dockyard://output/{task['id']}"
    lines = report["output_lines"]
    assert "hello-from-nvim" in lines, lines
    assert "[exit 0]" in lines and "[exit 3]" in lines, lines
    assert "part-one" in lines and "to-stderr" in lines, lines
    assert lines[0].startswith("$ echo hello-from-nvim"), lines

    assert report["statusline_paused"] == "⚓ 0▶ 1⏸ 0✗"
    assert report["statusline_stopped"] == "⚓ 0▶ 0⏸ 0✗ 1■"

    # :Dockyard terminal: keys typed in the terminal buffer reach the PTY, output comes back, size follows
    assert report["terminal_name"].startswith(f"dockyard://terminal/{task['id']}/")
    assert report["session_id"].startswith("s-")
    assert "term-42" in report["terminal_text"]
    assert "not found" in report["closed_session"]

    assert task["id"] in report["status_text"] and "## processes" in report["status_text"]
    assert task["id"] in report["list_text"]
    assert task["id"] in report["quickfix"]
    not_found = report["not_found"]
    assert not_found["level"] == 4 and "-32010" in not_found["msg"], not_found  # ERROR, TASK_NOT_FOUND
    assert report["execute_command_ids"] == [task["id"]]
    assert "one of: attach checkpoint" in report["unknown_subcommand"]["msg"]
    assert report["new_usage"]["level"] == 2  # INFO
    assert report["status_summary"]["msg"].startswith("Dockyard: ⚓ 1▶ 0⏸ 0✗\n"), report["status_summary"]

    # :Dockyard remove: refused while running (the daemon's message), then forced
    assert "force" in report["remove_refused"]["msg"]
    assert report["statusline_removed"] == "⚓ 0▶ 0⏸ 0✗"
    assert report["tasks_after"] == 0
    assert docker_engine.containers.list(all=True, filters={"label": f"dockyard.workspace={workspace}"}) == []
    assert report["statusline_after"] == "⚓ off"
