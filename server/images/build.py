"""Make the images Dockyard needs, offline when no registry is reachable.

``ensure_sandbox_image`` gives the default task image (Debian bookworm + git/python3/tini, user ``agent``);
``ensure_test_image`` gives a busybox image for tests that only need a process. Both are idempotent:
an existing tag is kept unless ``force``. Progress is a plain ``str`` callback so the CLI can render it.

    python -m dockyard.server.images.build [--force] [--test-image]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from dockyard.server import __version__
from dockyard.server.adapters import docker_images
from dockyard.server.adapters.docker_images import Client
from dockyard.server.errors import DockyardError
from dockyard.server.images import apt_sources, rootfs

Progress = Callable[[str], None]

BASE_TAG = "dockyard/base:bookworm"
UPSTREAM_BASE = "debian:bookworm-slim"
BASE_ENV = "DOCKYARD_SANDBOX_BASE"
SCRATCH_ENV = "DOCKYARD_BUILD_TMP"

BASE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    'CMD ["bash"]',
    "LABEL dockyard.image=base",
)
TEST_CHANGES = (
    'CMD ["/bin/sleep", "2147483647"]',
    f"USER {rootfs.AGENT_UID}:{rootfs.AGENT_GID}",
    "WORKDIR /workspace",
    "ENV PATH=/bin:/usr/bin HOME=/home/agent",
    "LABEL dockyard.image=testbox",
    f"LABEL dockyard.version={__version__}",
)


def sandbox_tag(version: str = __version__) -> str:
    """Tag of the sandbox image for a daemon ``version`` (images change with the daemon)."""
    return f"dockyard/sandbox:{version}"


def test_tag(version: str = __version__) -> str:
    """Tag of the busybox test image for a daemon ``version``."""
    return f"dockyard/testbox:{version}"


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _present(client: Client, tag: str, on_progress: Progress) -> str | None:
    """The id of ``tag`` if it exists (and says so), else None."""
    if not docker_images.image_exists(client, tag):
        return None
    ident: str = docker_images.image_id(client, tag)
    on_progress(f"{tag} is present ({_short(ident)}); nothing to build")
    return ident


def choose_base(client: Client) -> tuple[str, str]:
    """Pick the sandbox's base image and how to get it: ``env``, ``present``, ``bootstrap`` or ``pull``.

    A local base wins; otherwise we debootstrap when we can, which sends traffic only to the Debian
    mirror, and leave pulling debian:bookworm-slim to the engine on machines that cannot (laptops).
    """
    explicit = os.environ.get(BASE_ENV, "").strip()
    if explicit:
        return explicit, "env"
    for tag in (UPSTREAM_BASE, BASE_TAG):
        if docker_images.image_exists(client, tag):
            return tag, "present"
    return (BASE_TAG, "bootstrap") if rootfs.can_debootstrap() else (UPSTREAM_BASE, "pull")


def _scratch_dir() -> str:
    """Where root fs trees go: on disk (/var/tmp), not a possibly small tmpfs /tmp."""
    return os.environ.get(SCRATCH_ENV) or ("/var/tmp" if os.path.isdir("/var/tmp") else tempfile.gettempdir())


def bootstrap_base(client: Client, on_progress: Progress) -> str:
    """debootstrap a bookworm minbase from the host's mirror and import it as ``BASE_TAG``; returns its id."""
    sources = apt_sources.read_sources()
    mirror = apt_sources.debian_mirror(sources)
    security = apt_sources.security_mirror(sources)
    tool = rootfs.ensure_host_command("debootstrap", "debootstrap", on_progress)
    scratch = Path(tempfile.mkdtemp(prefix="dockyard-base-", dir=_scratch_dir()))
    try:
        root = scratch / "rootfs"
        root.mkdir()
        on_progress(f"[1/3] bootstrapping base with debootstrap from {mirror} (~30 s)…")
        rootfs.debootstrap(tool, root, apt_sources.CODENAME, mirror, on_progress)
        rootfs.prepare_base_rootfs(root, apt_sources.rootfs_sources_list(mirror, security))
        on_progress(f"[2/3] importing base as {BASE_TAG}…")
        tar_path = scratch / "rootfs.tar"
        rootfs.tar_rootfs(root, tar_path, on_progress)
        ident: str = docker_images.import_rootfs(client, str(tar_path), BASE_TAG, BASE_CHANGES)
        return ident
    finally:
        rootfs.remove_tree(scratch)


def ensure_base(client: Client, on_progress: Progress) -> str:
    """The base tag to build the sandbox on, bootstrapping it first when needed."""
    base, how = choose_base(client)
    if how == "bootstrap":
        bootstrap_base(client, on_progress)
        return base
    reasons = {
        "env": f"base {base} chosen by ${BASE_ENV}",
        "present": f"base {base} is present; no bootstrap needed",
        "pull": f"no local base and no debootstrap here: the engine will pull {base}",
    }
    on_progress(f"[1/3] {reasons[how]}")
    on_progress("[2/3] nothing to import")
    return base


@contextlib.contextmanager
def sandbox_context() -> Iterator[str]:
    """The build context directory (the packaged ``sandbox/`` folder holding the Dockerfile)."""
    with resources.as_file(resources.files("dockyard.server.images") / "sandbox") as path:
        if not (Path(path) / "Dockerfile").is_file():
            raise DockyardError(f"sandbox Dockerfile missing from the installed package ({path})")
        yield str(path)


def ensure_sandbox_image(client: Client, on_progress: Progress, force: bool = False) -> str:
    """Make sure ``sandbox_tag()`` exists, building it (and its base) if needed; returns the image id."""
    tag = sandbox_tag()
    existing = None if force else _present(client, tag, on_progress)
    if existing:
        return existing
    started = time.monotonic()
    base = ensure_base(client, on_progress)
    on_progress(f"[3/3] building {tag} on {base} (apt-get from the Debian mirror, ~1-2 min)…")
    labels = {"dockyard.image": "sandbox", "dockyard.version": __version__}
    with sandbox_context() as context:
        ident: str = docker_images.build_image(
            client, context, tag, {"BASE": base}, on_progress, nocache=force, labels=labels
        )
    on_progress(f"{tag} ready ({_short(ident)}) in {time.monotonic() - started:.0f} s")
    return ident


def ensure_test_image(client: Client, on_progress: Progress, force: bool = False) -> str:
    """Make sure ``test_tag()`` exists: a ``docker import`` of a busybox tree (seconds); returns the id."""
    tag = test_tag()
    existing = None if force else _present(client, tag, on_progress)
    if existing:
        return existing
    on_progress("[1/2] making a busybox root fs…")
    busybox = rootfs.find_static_busybox(on_progress)
    with tempfile.TemporaryDirectory(prefix="dockyard-testbox-") as scratch:
        tar_path = Path(scratch) / "rootfs.tar"
        rootfs.write_testbox_tar(busybox, rootfs.busybox_applets(busybox), tar_path)
        on_progress(f"[2/2] importing as {tag}…")
        ident: str = docker_images.import_rootfs(client, str(tar_path), tag, TEST_CHANGES)
    on_progress(f"{tag} ready ({_short(ident)})")
    return ident


def main(argv: list[str] | None = None) -> int:
    """Command line: build the sandbox image (default) or the test image; exit 1 with the reason on failure."""
    parser = argparse.ArgumentParser(
        prog="python -m dockyard.server.images.build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if the image exists")
    parser.add_argument("--test-image", action="store_true", help="make the busybox test image instead")
    args = parser.parse_args(argv)
    ensure = ensure_test_image if args.test_image else ensure_sandbox_image
    try:
        ensure(docker_images.connect(), lambda line: print(line, flush=True), force=args.force)
    except DockyardError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
