"""Root file systems made on the host, for images that no registry can give us here.

Two kinds: a Debian minbase made by debootstrap (base of the sandbox image) and a synthesized busybox
tree (the instant test image). Both end as tarballs for ``docker import``. No docker-py here.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from dockyard.server.errors import DockyardError

Progress = Callable[[str], None]

AGENT_UID = 1000
AGENT_GID = 1000
PT_INTERP = 3

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    f"agent:x:{AGENT_UID}:{AGENT_GID}:agent:/home/agent:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = f"root:x:0:\nagent:x:{AGENT_GID}:\nnogroup:x:65534:\n"
# Applets linked even if `busybox --list` cannot be run (e.g. a foreign-arch binary).
CORE_APPLETS = (
    "sh", "sleep", "cat", "echo", "head", "tail", "id", "ls", "kill", "yes", "dd", "wc", "env",
    "true", "false", "grep", "seq", "mkdir", "rm", "touch", "printf", "test", "ps", "sed",
)  # fmt: skip


def run_streaming(argv: Sequence[str], on_progress: Progress, prefix: str = "") -> None:
    """Run ``argv``, forwarding each output line to ``on_progress``; a non-zero exit is an error.

    The last lines are kept so the error says why, not just which command failed.
    """
    tail: list[str] = []
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                on_progress(prefix + line.rstrip())
                tail = [*tail[-9:], line.rstrip()]
    if proc.returncode != 0:
        raise DockyardError(
            f"{' '.join(argv)} exited with {proc.returncode}: " + " | ".join(tail),
            {"argv": list(argv), "exitCode": proc.returncode},
        )


def can_install_packages() -> bool:
    """Whether we may apt-get install host tools: root on a Debian-like host."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def can_debootstrap() -> bool:
    """Whether this host can make a Debian root fs itself: root on Linux with debootstrap or apt-get."""
    tools = shutil.which("debootstrap", path="/usr/sbin:/sbin:/usr/bin:/bin") or shutil.which("apt-get")
    return os.geteuid() == 0 and tools is not None


def apt_install(package: str, on_progress: Progress) -> None:
    """apt-get install ``package`` on the host, refreshing package lists once if the first try fails."""
    if not can_install_packages():
        raise DockyardError(f"the Debian package {package} is needed: install it (as root) and retry")
    on_progress(f"installing host package {package} with apt-get")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    try:
        run_streaming(install, lambda _line: None)
    except DockyardError:
        run_streaming(["apt-get", "update", "-q"], lambda _line: None)
        run_streaming(install, lambda _line: None)


def ensure_host_command(command: str, package: str, on_progress: Progress) -> str:
    """Path of ``command`` (sbin included: debootstrap lives there), installing ``package`` if missing."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin:/sbin:/usr/bin:/bin"])
    found = shutil.which(command, path=search)
    if not found:
        apt_install(package, on_progress)
        found = shutil.which(command, path=search)
    if not found:
        raise DockyardError(f"installed {package} but {command} is still not found")
    return found


def is_static_elf(path: Path) -> bool:
    """Whether ``path`` is a 64-bit little-endian ELF without a program interpreter (statically linked).

    A dynamic busybox copied alone into an image would fail to start: its loader is not there.
    """
    data = path.read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return False
    phoff = int.from_bytes(data[32:40], "little")
    phentsize = int.from_bytes(data[54:56], "little")
    phnum = int.from_bytes(data[56:58], "little")
    for index in range(phnum):
        start = phoff + index * phentsize
        if int.from_bytes(data[start : start + 4], "little") == PT_INTERP:
            return False
    return True


def find_static_busybox(on_progress: Progress) -> Path:
    """A statically linked busybox on the host, installing Debian's busybox-static if there is none."""
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(candidate).is_file() and is_static_elf(Path(candidate)):
            return Path(candidate)
    apt_install("busybox-static", on_progress)
    if Path("/bin/busybox").is_file() and is_static_elf(Path("/bin/busybox")):
        return Path("/bin/busybox")
    raise DockyardError("installed busybox-static but /bin/busybox is not a static binary")


def busybox_applets(busybox: Path) -> list[str]:
    """The applets ``busybox`` was built with (``--list``), or a core set if it cannot be asked."""
    try:
        out = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return list(CORE_APPLETS)
    names = {name.strip() for name in out.stdout.splitlines() if name.strip() and "/" not in name}
    return sorted(names | set(CORE_APPLETS))


def _entry(name: str, kind: bytes, mode: int, owner: int = 0, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid = kind, mode, owner, owner
    info.linkname = target
    return info


def write_testbox_tar(busybox: Path, applets: Iterable[str], out: Path) -> None:
    """Write the test image's root fs: busybox, one symlink per applet, users, and agent-owned dirs."""
    dirs = [("bin", 0o755, 0), ("etc", 0o755, 0), ("root", 0o700, 0), ("tmp", 0o1777, 0),
            ("usr", 0o755, 0), ("usr/bin", 0o755, 0), ("dev", 0o755, 0), ("proc", 0o555, 0),
            ("sys", 0o555, 0), ("home", 0o755, 0), ("home/agent", 0o755, AGENT_UID),
            ("workspace", 0o755, AGENT_UID)]  # fmt: skip
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, mode, owner in dirs:
            tar.addfile(_entry(name, tarfile.DIRTYPE, mode, owner))
        binary = busybox.read_bytes()
        info = _entry("bin/busybox", tarfile.REGTYPE, 0o755)
        info.size = len(binary)
        tar.addfile(info, io.BytesIO(binary))
        for applet in sorted(set(applets) - {"busybox"}):
            tar.addfile(_entry(f"bin/{applet}", tarfile.SYMTYPE, 0o777, target="busybox"))
        tar.addfile(_entry("usr/bin/env", tarfile.SYMTYPE, 0o777, target="/bin/busybox"))
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            data = text.encode()
            info = _entry(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def debootstrap(debootstrap_bin: str, target: Path, suite: str, mirror: str, on_progress: Progress) -> None:
    """``debootstrap --variant=minbase`` into ``target``, streaming its I:/W: lines."""
    argv = [debootstrap_bin, "--variant=minbase", suite, str(target), mirror]
    run_streaming(argv, on_progress, prefix="debootstrap: ")


def prepare_base_rootfs(root: Path, sources_list: str) -> None:
    """Make a fresh debootstrap tree fit for an image: our apt sources, no daemons started, no caches."""
    for folder in ("etc/apt/apt.conf.d", "usr/sbin"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "etc/apt/sources.list").write_text(sources_list)
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\n# Installing packages in an image must not start services.\nexit 101\n")
    policy.chmod(0o755)
    # Package descriptions in other languages are never read in a sandbox; skipping them saves a download.
    (root / "etc/apt/apt.conf.d/90dockyard").write_text('Acquire::Languages "none";\n')
    for leftover in ("etc/resolv.conf", "etc/hostname"):
        (root / leftover).unlink(missing_ok=True)
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (root / cache).glob("*"):
            if path.is_file():
                path.unlink()


def tar_rootfs(root: Path, out: Path, on_progress: Progress) -> None:
    """Tar ``root`` with numeric owners and xattrs; /dev, /proc, /sys contents are the engine's business."""
    argv = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", str(root), "-cf", str(out),
            "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "."]  # fmt: skip
    run_streaming(argv, on_progress, prefix="tar: ")


def unmount_below(root: Path) -> None:
    """Lazily unmount anything a failed debootstrap left mounted under ``root``, deepest first.

    Deleting a tree with /proc or /sys still mounted inside would reach into the host's.
    """
    prefix = str(root.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def remove_tree(root: Path) -> None:
    """Delete a scratch root fs safely (see :func:`unmount_below`)."""
    if root.exists():
        unmount_below(root)
        shutil.rmtree(root, ignore_errors=True)
