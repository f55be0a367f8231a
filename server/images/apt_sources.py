"""Which Debian mirror this host uses, read from its apt sources (one-line and deb822 formats).

The offline base image is debootstrapped from, and later apt-gets from, the mirror the host already
reaches; guessing a public mirror would fail on machines that only see a local one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

CODENAME = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SOURCES_LIST = Path("/etc/apt/sources.list")
SOURCES_DIR = Path("/etc/apt/sources.list.d")


@dataclass(frozen=True)
class AptSource:
    """One binary (``deb``) source: a repository URI with its suites and components."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def parse_one_line(text: str) -> list[AptSource]:
    """Parse the classic ``deb [opts] uri suite comp…`` format; ``deb-src`` and comments are skipped."""
    found: list[AptSource] = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            found.append(AptSource(words[0], (words[1],), tuple(words[2:])))
    return found


def _deb822_stanzas(text: str) -> Iterable[dict[str, str]]:
    """Split deb822 text into field dicts; continuation lines are folded into their field."""
    fields: dict[str, str] = {}
    last = ""
    for raw in [*text.splitlines(), ""]:
        if raw.lstrip().startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields
            fields, last = {}, ""
        elif raw[0] in " \t" and last:
            fields[last] += " " + raw.strip()
        elif ":" in raw:
            key, value = raw.split(":", 1)
            last = key.strip().lower()
            fields[last] = value.strip()


def parse_deb822(text: str) -> list[AptSource]:
    """Parse the ``.sources`` (deb822) format; disabled stanzas and non-``deb`` types are skipped."""
    found: list[AptSource] = []
    for fields in _deb822_stanzas(text):
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(fields.get("suites", "").split())
        components = tuple(fields.get("components", "").split())
        found.extend(AptSource(uri, suites, components) for uri in fields.get("uris", "").split())
    return found


def read_sources(sources_list: Path = SOURCES_LIST, sources_dir: Path = SOURCES_DIR) -> list[AptSource]:
    """Every ``deb`` source apt itself would read (it ignores files with other extensions)."""
    found = parse_one_line(sources_list.read_text()) if sources_list.is_file() else []
    if sources_dir.is_dir():
        for path in sorted(sources_dir.iterdir()):
            if path.suffix == ".list":
                found.extend(parse_one_line(path.read_text()))
            elif path.suffix == ".sources":
                found.extend(parse_deb822(path.read_text()))
    return found


def _usable(uri: str) -> bool:
    return urlsplit(uri).scheme in ("http", "https")


def debian_mirror(sources: Iterable[AptSource], codename: str = CODENAME) -> str:
    """The host's main Debian mirror: the first http(s) source serving ``codename`` itself.

    Falls back to a source whose path ends in ``/debian`` (a host on another release), then to
    deb.debian.org.
    """
    sources = [s for s in sources if _usable(s.uri)]
    for source in sources:
        if codename in source.suites:
            return source.uri.rstrip("/")
    for source in sources:
        if urlsplit(source.uri).path.rstrip("/").endswith("/debian"):
            return source.uri.rstrip("/")
    return DEFAULT_MIRROR


def security_mirror(sources: Iterable[AptSource], codename: str = CODENAME) -> str | None:
    """The host's security mirror for ``codename``, if it lists one."""
    for source in sources:
        if _usable(source.uri) and f"{codename}-security" in source.suites:
            return source.uri.rstrip("/")
    return None


def plain_http(uri: str) -> str:
    """``uri`` over plain http: a minbase root fs has no CA bundle yet, and apt verifies signatures anyway."""
    return "http://" + uri.split("://", 1)[1] if uri.startswith("https://") else uri


def rootfs_sources_list(mirror: str, security: str | None, codename: str = CODENAME) -> str:
    """The ``/etc/apt/sources.list`` written into the bootstrapped base (main, updates, security)."""
    lines = [
        f"deb {plain_http(mirror)} {codename} main",
        f"deb {plain_http(mirror)} {codename}-updates main",
    ]
    if security:
        lines.append(f"deb {plain_http(security)} {codename}-security main")
    return "\n".join(lines) + "\n"
