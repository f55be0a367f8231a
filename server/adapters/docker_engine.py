"""The Docker Engine connection and the one translation of docker-py errors into ours.

Every docker-py call in the adapters runs inside :func:`engine_errors`; the rest of the daemon never
sees a docker-py or requests exception. :class:`Engine` reconnects lazily so the daemon stays up while
Docker is down and recovers by itself when it comes back.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import docker
import docker.errors
import requests.exceptions

from dockyard.server.errors import ContainerGone, DockerUnavailable, DockyardError, EngineConflict

DEFAULT_TIMEOUT_S = 60


def connect(timeout: int = DEFAULT_TIMEOUT_S) -> docker.DockerClient:
    """A client for the engine named by the environment (DOCKER_HOST or the default socket), pinged once."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise DockerUnavailable(str(exc)) from exc
    return client


@contextlib.contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Translate docker-py failures during ``action``: lost engine, missing object, conflict, refusal."""
    try:
        yield
    except docker.errors.NotFound as exc:  # before RequestException: APIError subclasses requests' HTTPError
        raise ContainerGone(f"{action}: {exc.explanation or exc}") from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            raise EngineConflict(f"{action}: {exc.explanation or exc}") from exc
        raise DockyardError(f"{action} failed: {exc.explanation or exc}") from exc
    except requests.exceptions.RequestException as exc:
        raise DockerUnavailable(f"{action}: {exc}") from exc
    except docker.errors.DockerException as exc:
        raise DockerUnavailable(f"{action}: {exc}") from exc


class Engine:
    """Holds one client; connects on first use and again after the engine went away."""

    def __init__(self, timeout: int = DEFAULT_TIMEOUT_S) -> None:
        self._timeout = timeout
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()

    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                self._client = connect(self._timeout)
            return self._client

    def forget(self) -> None:
        """Drop the client after a DockerUnavailable so the next call reconnects."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    @contextlib.contextmanager
    def call(self, action: str) -> Iterator[docker.DockerClient]:
        """``with engine.call("starting t-1") as client:`` — translated errors, reconnect on loss."""
        try:
            with engine_errors(action):
                yield self.client()
        except DockerUnavailable:
            self.forget()
            raise

    def available(self) -> bool:
        try:
            with self.call("ping") as client:
                client.ping()
        except DockyardError:
            return False
        return True
