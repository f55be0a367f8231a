"""Image helpers that need no engine: apt source parsing, tags, root fs making, build orchestration."""

from __future__ import annotations

import struct
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests.exceptions

from dockyard.server import __version__
from dockyard.server.adapters import docker_engine, docker_images
from dockyard.server.errors import DockerUnavailable, DockyardError
from dockyard.server.images import apt_sources, build, rootfs

ONE_LINE = """\
# a comment
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example/debian bookworm main contrib
deb-src http://mirror.example/debian bookworm main
deb http://mirror.example/debian-security bookworm-security main # trailing comment
deb cdrom:[Debian]/ bookworm main
"""

DEB822 = """\
Types: deb deb-src
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: https://mirror.example/debian
Suites: bookworm
 bookworm-updates
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
"""


def test_one_line_format_skips_sources_options_and_comments() -> None:
    found = apt_sources.parse_one_line(ONE_LINE)
    assert [s.uri for s in found] == [
        "http://mirror.example/debian",
        "http://mirror.example/debian-security",
        "cdrom:[Debian]/",
    ]
    assert found[0].suites == ("bookworm",)
    assert found[0].components == ("main", "contrib")


def test_deb822_folds_continuations_and_skips_disabled() -> None:
    found = apt_sources.parse_deb822(DEB822)
    assert found == [
        apt_sources.AptSource("https://mirror.example/debian", ("bookworm", "bookworm-updates"), ("main",))
    ]


def test_read_sources_reads_only_what_apt_reads(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text("deb http://one.example/debian bookworm main\n")
    drop_in = tmp_path / "sources.list.d"
    drop_in.mkdir()
    (drop_in / "debian.sources").write_text(DEB822)
    (drop_in / "extra.list").write_text("deb http://two.example/debian bookworm main\n")
    (drop_in / "old.list.disabled-by-admin").write_text("deb http://ignored.example/debian bookworm main\n")
    uris = [s.uri for s in apt_sources.read_sources(listing, drop_in)]
    assert uris == ["http://one.example/debian", "https://mirror.example/debian", "http://two.example/debian"]


def test_read_sources_tolerates_missing_files(tmp_path: Path) -> None:
    assert apt_sources.read_sources(tmp_path / "none.list", tmp_path / "none.d") == []


def test_mirror_is_the_first_http_source_serving_bookworm(tmp_path: Path) -> None:
    sources = apt_sources.parse_one_line(ONE_LINE)
    assert apt_sources.debian_mirror(sources) == "http://mirror.example/debian"
    assert apt_sources.security_mirror(sources) == "http://mirror.example/debian-security"


def test_mirror_falls_back_to_a_debian_path_then_to_deb_debian_org() -> None:
    trixie = [apt_sources.AptSource("http://local.example/debian/", ("trixie",), ("main",))]
    assert apt_sources.debian_mirror(trixie) == "http://local.example/debian"
    ubuntu = [apt_sources.AptSource("http://archive.ubuntu.com/ubuntu", ("jammy",), ("main",))]
    assert apt_sources.debian_mirror(ubuntu) == apt_sources.DEFAULT_MIRROR
    assert apt_sources.security_mirror(ubuntu) is None


def test_rootfs_sources_list_is_plain_http() -> None:
    text = apt_sources.rootfs_sources_list("https://m.example/debian", "http://s.example/debian-security")
    assert text.splitlines() == [
        "deb http://m.example/debian bookworm main",
        "deb http://m.example/debian bookworm-updates main",
        "deb http://s.example/debian-security bookworm-security main",
    ]
    assert "security" not in apt_sources.rootfs_sources_list("http://m.example/debian", None)


def test_tags_follow_the_daemon_version() -> None:
    assert build.sandbox_tag() == f"dockyard/sandbox:{__version__}"
    assert build.test_tag() == f"dockyard/testbox:{__version__}"
    assert build.sandbox_tag("9.9.9") == "dockyard/sandbox:9.9.9"


def _elf(interp: bool) -> bytes:
    """A minimal ELF64 header with one program header: PT_INTERP (3) or PT_LOAD (1)."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 32, 64)  # e_phoff
    struct.pack_into("<HH", header, 54, 56, 1)  # e_phentsize, e_phnum
    program = struct.pack("<I", 3 if interp else 1) + bytes(52)
    return bytes(header) + program


@pytest.mark.parametrize(("data", "static"), [(_elf(False), True), (_elf(True), False), (b"#!/bin/sh\n", False)])
def test_static_elf_detection(tmp_path: Path, data: bytes, static: bool) -> None:
    path = tmp_path / "busybox"
    path.write_bytes(data + bytes(16))
    assert rootfs.is_static_elf(path) is static


def test_testbox_tar_has_users_links_and_agent_dirs(tmp_path: Path) -> None:
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"binary")
    out = tmp_path / "root.tar"
    rootfs.write_testbox_tar(busybox, ["sh", "sleep", "busybox"], out)
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
        passwd = tar.extractfile("etc/passwd")
        assert passwd is not None
        assert "agent:x:1000:1000:agent:/home/agent:/bin/sh" in passwd.read().decode()
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert "bin/busybox" in members and members["bin/busybox"].mode == 0o755
    assert members["workspace"].uid == 1000 and members["home/agent"].gid == 1000
    assert members["tmp"].mode == 0o1777


def test_busybox_applets_asks_the_binary_or_falls_back(tmp_path: Path) -> None:
    fake = tmp_path / "busybox"
    fake.write_text("#!/bin/sh\nprintf 'ash\\n[\\nrun-parts\\n'\n")
    fake.chmod(0o755)
    applets = rootfs.busybox_applets(fake)
    assert {"ash", "[", "run-parts", "sh", "sleep"} <= set(applets)
    assert rootfs.busybox_applets(tmp_path / "missing") == list(rootfs.CORE_APPLETS)


def test_run_streaming_forwards_lines_and_reports_failures() -> None:
    lines: list[str] = []
    rootfs.run_streaming(["sh", "-c", "echo one; echo two >&2"], lines.append, prefix="> ")
    assert lines == ["> one", "> two"]
    with pytest.raises(DockyardError) as caught:
        rootfs.run_streaming(["sh", "-c", "echo why; exit 3"], lambda _line: None)
    assert caught.value.data["exitCode"] == 3 and "why" in caught.value.message


def test_prepare_base_rootfs_sets_sources_and_drops_caches(tmp_path: Path) -> None:
    for sub in ("etc/apt/apt.conf.d", "usr/sbin", "var/cache/apt/archives", "var/lib/apt/lists"):
        (tmp_path / sub).mkdir(parents=True)
    (tmp_path / "var/cache/apt/archives/x.deb").write_text("deb")
    (tmp_path / "etc/resolv.conf").write_text("nameserver 10.0.0.1\n")
    rootfs.prepare_base_rootfs(tmp_path, "deb http://m/debian bookworm main\n")
    assert (tmp_path / "etc/apt/sources.list").read_text() == "deb http://m/debian bookworm main\n"
    assert (tmp_path / "usr/sbin/policy-rc.d").stat().st_mode & 0o111
    assert not (tmp_path / "var/cache/apt/archives/x.deb").exists()
    assert not (tmp_path / "etc/resolv.conf").exists()


def test_remove_tree_deletes_a_scratch_tree(tmp_path: Path) -> None:
    (tmp_path / "scratch/rootfs/etc").mkdir(parents=True)
    rootfs.remove_tree(tmp_path / "scratch")
    assert not (tmp_path / "scratch").exists()
    rootfs.remove_tree(tmp_path / "scratch")  # already gone: no error


def test_follow_build_forwards_lines_and_returns_the_id() -> None:
    events = iter([{"stream": "Step 1/2 : FROM x\n"}, {"aux": {"ID": "sha256:abc"}}, {"stream": "\n"}])
    lines: list[str] = []
    assert docker_images._follow_build(events, "t:1", lines.append) == "sha256:abc"
    assert lines == ["Step 1/2 : FROM x"]


def test_follow_build_raises_on_the_engines_error_event() -> None:
    events = iter([{"errorDetail": {"message": "exit code 1"}, "error": "RUN false: exit code 1\n"}])
    with pytest.raises(DockyardError, match="building t:1 failed: RUN false: exit code 1"):
        docker_images._follow_build(events, "t:1", lambda _line: None)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (requests.exceptions.ConnectionError("refused"), DockerUnavailable),
        (docker.errors.DockerException("no socket"), DockerUnavailable),
        (docker.errors.APIError("500 Server Error"), DockyardError),
    ],
)
def test_engine_errors_are_translated(raised: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected), docker_engine.engine_errors("doing x"):
        raise raised


def test_connect_without_an_engine_is_docker_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(DockerUnavailable, match="not reachable"):
        docker_images.connect(timeout=2)


def test_import_rootfs_rejects_a_tag_without_version() -> None:
    with pytest.raises(DockyardError, match="repository:tag"):
        docker_images.import_rootfs(object(), "/nonexistent.tar", "no-version", [])


class FakeImages:
    """Stands in for docker_images' engine calls: remembers tags, counts builds and imports."""

    def __init__(self, present: set[str]) -> None:
        self.present = set(present)
        self.calls: list[tuple[str, Any]] = []

    def exists(self, _client: object, tag: str) -> bool:
        return tag in self.present

    def image_id(self, _client: object, tag: str) -> str:
        return f"sha256:{tag}"

    def build(self, _c: object, context: str, tag: str, args: dict[str, str], _p: Any, **kw: Any) -> str:
        assert Path(context, "Dockerfile").is_file()
        self.calls.append(("build", (tag, args, kw["nocache"])))
        self.present.add(tag)
        return f"sha256:{tag}"

    def import_rootfs(self, _c: object, tar_path: str, tag: str, changes: Any) -> str:
        with tarfile.open(tar_path) as tar:
            self.calls.append(("import", (tag, sorted(tar.getnames()), list(changes))))
        self.present.add(tag)
        return f"sha256:{tag}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeImages]:
    images = FakeImages(set())
    monkeypatch.setattr(docker_images, "image_exists", images.exists)
    monkeypatch.setattr(docker_images, "image_id", images.image_id)
    monkeypatch.setattr(docker_images, "build_image", images.build)
    monkeypatch.setattr(docker_images, "import_rootfs", images.import_rootfs)
    monkeypatch.delenv(build.BASE_ENV, raising=False)
    yield images


def test_existing_sandbox_is_kept(fake: FakeImages) -> None:
    fake.present.add(build.sandbox_tag())
    lines: list[str] = []
    assert build.ensure_sandbox_image(object(), lines.append) == f"sha256:{build.sandbox_tag()}"
    assert fake.calls == [] and "nothing to build" in lines[0]


def test_sandbox_builds_on_a_present_base_and_force_rebuilds(fake: FakeImages) -> None:
    fake.present |= {build.BASE_TAG, build.sandbox_tag()}
    lines: list[str] = []
    build.ensure_sandbox_image(object(), lines.append, force=True)
    assert fake.calls == [("build", (build.sandbox_tag(), {"BASE": build.BASE_TAG}, True))]
    assert any(line.startswith("[3/3] building") for line in lines)


def test_base_choice_env_then_local_then_bootstrap_or_pull(fake: FakeImages, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rootfs, "can_debootstrap", lambda: False)
    assert build.choose_base(object()) == (build.UPSTREAM_BASE, "pull")
    lines: list[str] = []
    assert build.ensure_base(object(), lines.append) == build.UPSTREAM_BASE
    assert "pull" in lines[0]
    monkeypatch.setattr(rootfs, "can_debootstrap", lambda: True)
    assert build.choose_base(object()) == (build.BASE_TAG, "bootstrap")
    fake.present.add(build.UPSTREAM_BASE)
    assert build.choose_base(object()) == (build.UPSTREAM_BASE, "present")
    monkeypatch.setenv(build.BASE_ENV, "my/base:1")
    assert build.choose_base(object()) == ("my/base:1", "env")


def test_bootstrap_base_imports_a_prepared_tree(
    fake: FakeImages, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def fake_debootstrap(_tool: str, target: Path, suite: str, mirror: str, _p: Any) -> None:
        assert (suite, mirror) == ("bookworm", "http://m.example/debian")
        for sub in ("etc/apt", "usr/sbin", "var/cache/apt/archives", "var/lib/apt/lists", "dev"):
            (target / sub).mkdir(parents=True)
        (target / "dev/null").write_text("")

    source = apt_sources.AptSource("http://m.example/debian", ("bookworm",), ("main",))
    monkeypatch.setattr(apt_sources, "read_sources", lambda: [source])
    monkeypatch.setattr(rootfs, "ensure_host_command", lambda *_a: "debootstrap")
    monkeypatch.setattr(rootfs, "debootstrap", fake_debootstrap)
    monkeypatch.setattr(rootfs, "can_debootstrap", lambda: True)
    monkeypatch.setenv(build.SCRATCH_ENV, str(tmp_path))
    lines: list[str] = []
    build.ensure_sandbox_image(object(), lines.append)
    kind, (tag, names, _changes) = fake.calls[0]
    assert (kind, tag) == ("import", build.BASE_TAG) and "./dev" in names and "./dev/null" not in names
    assert fake.calls[1][0] == "build" and list(tmp_path.iterdir()) == []
    assert [line[:5] for line in lines if line.startswith("[")] == ["[1/3]", "[2/3]", "[3/3]"]


def test_test_image_is_imported_with_keep_alive_changes(
    fake: FakeImages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busybox = tmp_path / "busybox"
    busybox.write_bytes(_elf(False))
    monkeypatch.setattr(rootfs, "find_static_busybox", lambda _p: busybox)
    build.ensure_test_image(object(), lambda _line: None)
    kind, (tag, _names, changes) = fake.calls[0]
    assert (kind, tag) == ("import", build.test_tag())
    assert 'CMD ["/bin/sleep", "2147483647"]' in changes and "USER 1000:1000" in changes
    assert build.ensure_test_image(object(), lambda _line: None) == f"sha256:{build.test_tag()}"
    assert len(fake.calls) == 1


def test_main_exits_1_with_the_reason_when_docker_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_engine(timeout: int = 0) -> object:
        raise DockerUnavailable("no socket")

    monkeypatch.setattr(docker_images, "connect", no_engine)
    assert build.main(["--test-image"]) == 1
    assert "Docker engine is not reachable" in capsys.readouterr().err


def test_main_builds_what_is_asked(fake: FakeImages, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.present |= {build.sandbox_tag()}
    monkeypatch.setattr(docker_images, "connect", lambda timeout=0: object())
    assert build.main([]) == 0


def test_host_commands_are_found_or_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rootfs.ensure_host_command("sh", "dash", lambda _line: None).endswith("/sh")
    monkeypatch.setattr(rootfs, "can_install_packages", lambda: False)
    with pytest.raises(DockyardError, match="Debian package no-such-pkg is needed"):
        rootfs.ensure_host_command("no-such-command-xyz", "no-such-pkg", lambda _line: None)
    assert isinstance(rootfs.can_debootstrap(), bool)


def test_apt_install_retries_after_refreshing_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(argv: list[str], _on: Any, prefix: str = "") -> None:
        calls.append(argv[:2])
        if len(calls) == 1:
            raise DockyardError("stale lists")

    monkeypatch.setattr(rootfs, "can_install_packages", lambda: True)
    monkeypatch.setattr(rootfs, "run_streaming", fake_run)
    rootfs.apt_install("pkg", lambda _line: None)
    assert calls == [["apt-get", "install"], ["apt-get", "update"], ["apt-get", "install"]]
