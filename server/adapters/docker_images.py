"""Image work against the Docker Engine: the only module outside adapters/docker.py that imports docker-py.

Everything here maps docker-py / requests errors to ours once, so callers (image build orchestration,
the CLI) see ``DockerUnavailable`` when the engine is gone and ``DockyardError`` when a build fails,
never a library exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import docker
import docker.errors

from dockyard.server.adapters.docker_engine import connect as connect  # re-exported for image callers
from dockyard.server.adapters.docker_engine import engine_errors
from dockyard.server.errors import DockyardError

Progress = Callable[[str], None]
Client = docker.DockerClient
"""What callers hold; named here so they need not import docker-py themselves."""


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    """Whether ``tag`` is present locally (never pulls)."""
    with engine_errors(f"looking up image {tag}"):
        try:
            client.images.get(tag)
        except docker.errors.ImageNotFound:
            return False
    return True


def image_id(client: docker.DockerClient, tag: str) -> str:
    """The local image id (``sha256:…``) of ``tag``; ``DockyardError`` if it is missing."""
    with engine_errors(f"looking up image {tag}"):
        return str(client.images.get(tag).id)


def import_rootfs(client: docker.DockerClient, tar_path: str, tag: str, changes: Sequence[str]) -> str:
    """``docker import`` a root fs tarball as ``tag`` with Dockerfile-style ``changes``; returns the id.

    Importing (not building) is how we get a base image with no registry: the tarball is made locally.
    """
    repository, _, version = tag.rpartition(":")
    if not repository or "/" in version:
        raise DockyardError(f"image tag must be repository:tag, got {tag!r}")
    with engine_errors(f"importing {tar_path} as {tag}"):
        client.api.import_image(src=tar_path, repository=repository, tag=version, changes=list(changes))
    return image_id(client, tag)


def build_image(
    client: docker.DockerClient,
    context_dir: str,
    tag: str,
    buildargs: dict[str, str],
    on_progress: Progress,
    *,
    nocache: bool = False,
    labels: dict[str, str] | None = None,
) -> str:
    """Build ``context_dir``'s Dockerfile as ``tag``, streaming log lines to ``on_progress``; returns the id.

    Uses the low-level streaming API so a long apt step shows progress instead of a silent wait,
    and never pulls (``pull=False``): the base is either local or fetched by the engine on demand.
    """
    with engine_errors(f"building {tag}"):
        events = client.api.build(
            path=context_dir,
            tag=tag,
            buildargs=buildargs,
            decode=True,
            rm=True,
            forcerm=True,
            nocache=nocache,
            labels=labels or {},
        )
        built = _follow_build(events, tag, on_progress)
    return built or image_id(client, tag)


def _follow_build(events: Iterator[dict[str, Any]], tag: str, on_progress: Progress) -> str:
    """Forward build events as text lines; raise on the engine's ``error`` event; return the aux id."""
    built = ""
    for event in events:
        if "error" in event or "errorDetail" in event:
            detail = event.get("errorDetail") or {}
            message = str(event.get("error") or detail.get("message") or event)
            raise DockyardError(f"building {tag} failed: {message.strip()}", {"tag": tag})
        aux = event.get("aux")
        if isinstance(aux, dict) and "ID" in aux:
            built = str(aux["ID"])
        text = event.get("stream") or event.get("status")
        if text:
            for line in str(text).splitlines():
                if line.strip():
                    on_progress(line.rstrip())
    return built
