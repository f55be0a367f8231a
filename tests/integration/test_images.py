"""The images against a real engine: they exist, run as the agent user, hold their tools, and are not rebuilt.

No skips: without an engine the ``client`` fixture raises DockerUnavailable and every test here errors.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dockyard.server.adapters import docker_images
from dockyard.server.errors import DockyardError
from dockyard.server.images import build, rootfs

# A first run may build the sandbox inside a fixture (minutes); the fast checks carry their own limits.
pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

# The same hardening a task container gets, so the images are checked the way they are used.
HARDENED = {
    "init": True,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "read_only": True,
    "tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,size=16m"},
    "network_mode": "none",
    "ulimits": [docker.types.Ulimit(name="nofile", soft=1024, hard=1024)],
    "pids_limit": 64,
    "mem_limit": "256m",
}


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    engine = docker_images.connect()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def sandbox(client: docker.DockerClient) -> str:
    """The sandbox image id, building it here if setup.sh has not."""
    ident: str = build.ensure_sandbox_image(client, print)
    return ident


@pytest.fixture(scope="module")
def testbox(client: docker.DockerClient) -> str:
    ident: str = build.ensure_test_image(client, print)
    return ident


def run(client: docker.DockerClient, image: str, command: list[str]) -> str:
    """Output of ``command`` in a fresh hardened container of ``image`` (removed afterwards)."""
    out = client.containers.run(image, command, remove=True, stdout=True, stderr=True, **HARDENED)
    return bytes(out).decode().strip()


def test_sandbox_image_exists_after_ensure(client: docker.DockerClient, sandbox: str) -> None:
    assert build.ensure_sandbox_image(client, lambda _line: None) == sandbox
    labels = client.images.get(build.sandbox_tag()).labels
    assert labels["dockyard.image"] == "sandbox"


def test_sandbox_runs_as_agent_in_workspace(client: docker.DockerClient, sandbox: str) -> None:
    assert run(client, sandbox, ["id", "-u"]) == "1000"
    assert run(client, sandbox, ["sh", "-c", "id -g; pwd; echo $HOME"]).splitlines() == [
        "1000",
        "/workspace",
        "/home/agent",
    ]
    config = client.images.get(sandbox).attrs["Config"]
    assert config["User"] == "agent" and config["Cmd"] == ["sleep", "infinity"]


def test_sandbox_has_git_python_tini_and_safe_directory(client: docker.DockerClient, sandbox: str) -> None:
    script = "git --version && python3 -c 'print(42)' && command -v tini && ps -p 1 -o comm="
    lines = run(client, sandbox, ["sh", "-c", script]).splitlines()
    assert lines[0].startswith("git version ") and lines[1] == "42" and lines[2].endswith("/tini")
    assert lines[3] == "docker-init"
    assert run(client, sandbox, ["git", "config", "--system", "--get", "safe.directory"]) == "/workspace"


def test_sandbox_apt_sources_use_plain_http(client: docker.DockerClient, sandbox: str) -> None:
    # A bootstrapped base must keep apt usable without a CA bundle; an upstream base has deb822 sources.
    text = run(client, sandbox, ["sh", "-c", "cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null; true"])
    assert "http://" in text and "https://" not in text


def test_test_image_runs_a_shell_as_agent(client: docker.DockerClient, testbox: str) -> None:
    assert run(client, testbox, ["sh", "-c", "echo ok"]) == "ok"
    assert run(client, testbox, ["sh", "-c", "id -u; pwd; seq 3 | wc -l"]).splitlines() == [
        "1000",
        "/workspace",
        "3",
    ]


def test_test_image_keeps_running_by_default(client: docker.DockerClient, testbox: str) -> None:
    container = client.containers.run(testbox, detach=True, **HARDENED)
    try:
        time.sleep(0.5)
        container.reload()
        assert container.status == "running"
        assert container.attrs["Config"]["Cmd"] == ["/bin/sleep", "2147483647"]
    finally:
        container.remove(force=True)


@pytest.mark.timeout(60)
def test_ensure_twice_is_fast_and_keeps_the_images(client: docker.DockerClient, sandbox: str, testbox: str) -> None:
    started = time.monotonic()
    assert build.ensure_sandbox_image(client, lambda _line: None) == sandbox
    assert build.ensure_test_image(client, lambda _line: None) == testbox
    assert time.monotonic() - started < 5
    assert docker_images.image_id(client, build.sandbox_tag()) == sandbox


def test_image_exists_is_false_for_a_missing_tag(client: docker.DockerClient) -> None:
    assert not docker_images.image_exists(client, "dockyard/no-such-image:0")
    with pytest.raises(DockyardError):
        docker_images.image_id(client, "dockyard/no-such-image:0")


def test_import_rootfs_applies_changes(client: docker.DockerClient, tmp_path: Path) -> None:
    busybox = rootfs.find_static_busybox(print)
    tar_path = tmp_path / "root.tar"
    rootfs.write_testbox_tar(busybox, ["sh", "echo"], tar_path)
    tag = f"dockyard/test-import:{os.getpid()}"
    ident = docker_images.import_rootfs(client, str(tar_path), tag, ["USER 1000:1000", 'CMD ["/bin/sh"]'])
    try:
        config = client.images.get(tag).attrs["Config"]
        assert ident.startswith("sha256:") and config["User"] == "1000:1000" and config["Cmd"] == ["/bin/sh"]
    finally:
        client.images.remove(tag, force=True)


def test_failed_build_is_a_dockyard_error_with_the_log(
    client: docker.DockerClient, testbox: str, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {build.test_tag()}\nRUN echo before-failure && false\n")
    lines: list[str] = []
    tag = f"dockyard/test-broken:{os.getpid()}"
    with pytest.raises(DockyardError, match=f"building {tag} failed"):
        docker_images.build_image(client, str(tmp_path), tag, {}, lines.append, nocache=True)
    assert "before-failure" in lines
    assert not docker_images.image_exists(client, tag)
