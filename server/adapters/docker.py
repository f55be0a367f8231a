"""Containers, volumes and events of task containers: the docker-py side of the task lifecycle.

Returns plain dicts/str; every call goes through :meth:`Engine.call`, so errors are already ours.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import docker.types

from dockyard.server.adapters.docker_engine import Engine
from dockyard.server.errors import ContainerGone

TASK_LABEL = "dockyard.task"
WORKSPACE_LABEL = "dockyard.workspace"


class DockerAdapter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- create / remove -------------------------------------------------------------------------
    def create_volume(self, name: str, labels: dict[str, str]) -> None:
        with self.engine.call(f"creating volume {name}") as client:
            client.volumes.create(name=name, labels=labels)

    def remove_volume(self, name: str) -> None:
        """Idempotent: a volume that is already gone is fine."""
        with contextlib.suppress(ContainerGone), self.engine.call(f"removing volume {name}") as client:
            client.volumes.get(name).remove(force=True)

    def image_present(self, image: str) -> bool:
        try:
            with self.engine.call(f"looking up image {image}") as client:
                client.images.get(image)
        except ContainerGone:
            return False
        return True

    def create_container(self, image: str, name: str, kwargs: dict[str, Any]) -> str:
        """Create (not start) a container from the policy's spec; returns its id."""
        options = dict(kwargs)
        options["ulimits"] = [
            docker.types.Ulimit(name=u["Name"], soft=u["Soft"], hard=u["Hard"]) for u in options.get("ulimits", [])
        ]
        with self.engine.call(f"creating container {name}") as client:
            container = client.containers.create(image, name=name, detach=True, **options)
        return str(container.id)

    def remove_container(self, container_id: str) -> None:
        """Force-remove; idempotent."""
        with contextlib.suppress(ContainerGone), self.engine.call(f"removing container {container_id[:12]}") as c:
            c.api.remove_container(container_id, force=True, v=False)

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self, container_id: str) -> None:
        with self.engine.call(f"starting {container_id[:12]}") as client:
            client.api.start(container_id)

    def stop(self, container_id: str, timeout_s: int) -> None:
        with self.engine.call(f"stopping {container_id[:12]}") as client:
            client.api.stop(container_id, timeout=timeout_s)

    def restart(self, container_id: str, timeout_s: int) -> None:
        with self.engine.call(f"restarting {container_id[:12]}") as client:
            client.api.restart(container_id, timeout=timeout_s)

    def kill(self, container_id: str, signal: str) -> None:
        with self.engine.call(f"killing {container_id[:12]}") as client:
            client.api.kill(container_id, signal=signal)

    def pause(self, container_id: str) -> None:
        with self.engine.call(f"pausing {container_id[:12]}") as client:
            client.api.pause(container_id)

    def unpause(self, container_id: str) -> None:
        with self.engine.call(f"resuming {container_id[:12]}") as client:
            client.api.unpause(container_id)

    # --- reading -----------------------------------------------------------------------------------
    def inspect(self, container_id: str) -> dict[str, Any]:
        with self.engine.call(f"inspecting {container_id[:12]}") as client:
            return dict(client.api.inspect_container(container_id))

    def stats(self, container_id: str) -> dict[str, Any]:
        with self.engine.call(f"reading stats of {container_id[:12]}") as client:
            return dict(client.api.stats(container_id, stream=False))

    def top(self, container_id: str) -> dict[str, Any]:
        with self.engine.call(f"listing processes of {container_id[:12]}") as client:
            return dict(client.api.top(container_id))

    def changes(self, container_id: str) -> list[dict[str, Any]]:
        with self.engine.call(f"listing changes of {container_id[:12]}") as client:
            return list(client.api.diff(container_id) or [])

    def logs(self, container_id: str, tail: int | None, since: datetime | None) -> bytes:
        with self.engine.call(f"reading logs of {container_id[:12]}") as client:
            data = client.api.logs(
                container_id, stdout=True, stderr=True, tail="all" if tail is None else tail, since=since
            )
        return bytes(data)

    def task_containers(self, workspace: str) -> list[dict[str, Any]]:
        """Every container (any state) labelled as a task of ``workspace``."""
        with self.engine.call("listing task containers") as client:
            found = client.api.containers(all=True, filters={"label": f"{WORKSPACE_LABEL}={workspace}"})
        return [{"id": c["Id"], "task": c.get("Labels", {}).get(TASK_LABEL), "state": c.get("State")} for c in found]

    def events(self, workspace: str) -> EventStream:
        """Blocking stream of container events of this workspace's tasks; ``close()`` from any thread stops it."""
        with self.engine.call("subscribing to engine events") as client:
            stream = client.events(
                decode=True, filters={"type": "container", "label": f"{WORKSPACE_LABEL}={workspace}"}
            )
        return EventStream(self.engine, stream)


class EventStream:
    def __init__(self, engine: Engine, stream: Any) -> None:
        self._engine = engine
        self._stream = stream

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with self._engine.call("reading engine events"):
            yield from self._stream

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stream.close()
