"""Every subpackage of protocol/ and server/ is listed in pyproject.toml and lands in the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAPPING = {"protocol": "dockyard.protocol", "server": "dockyard.server"}


def _packages_on_disk() -> set[str]:
    found = set()
    for top, dotted in MAPPING.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([dotted, *rel.parts]))
    return found


def test_every_subpackage_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert _packages_on_disk() == listed


def test_wheel_contains_every_subpackage_and_package_data(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("dockyard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for package in _packages_on_disk():
        assert package.replace(".", "/") + "/__init__.py" in names, package
    assert "dockyard/server/images/sandbox/Dockerfile" in names
    assert "dockyard/protocol/py.typed" in names
