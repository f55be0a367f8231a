"""Workspace config: defaults, strict parsing, and values that must never load."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from dockyard.server.errors import InvalidParams
from dockyard.server.services.config import Defaults, Policy, WorkspaceConfig, load_config

IMAGE = "dockyard/sandbox:9.9.9"


def write(ws: Path, text: str) -> Path:
    path = ws / ".dockyard" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def refused(ws: Path, text: str) -> InvalidParams:
    path = write(ws, text)
    with pytest.raises(InvalidParams) as info:
        load_config(ws, IMAGE)
    assert str(path) in info.value.message
    assert info.value.data["file"] == str(path)
    return info.value


def test_missing_file_gives_builtin_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, IMAGE)
    assert cfg.path is None
    assert cfg.defaults == Defaults(image=IMAGE, memory_mb=2048, cpus=1.0, pids=512, network="none", tmp_size_mb=256)
    assert cfg.policy.max_memory_mb == 16384
    assert cfg.policy.max_cpus == float(os.cpu_count() or 1)
    assert cfg.policy.max_pids == 4096
    assert cfg.policy.allowed_networks == ("none",)
    assert cfg.policy.allow_ports is False
    assert cfg.policy.allowed_images == ()


def test_full_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[defaults]
image = "my/image:1"
memory_mb = 1024
cpus = 2
pids = 256
network = "bridge"
tmp_size_mb = 64

[policy]
max_memory_mb = 4096
max_cpus = 2.5
max_pids = 1024
allowed_networks = ["bridge", "dev-net"]
allow_ports = true
allowed_images = ["my/image:1"]
""",
    )
    cfg = load_config(tmp_path, IMAGE)
    assert cfg == WorkspaceConfig(
        Defaults("my/image:1", 1024, 2.0, 256, "bridge", 64),
        Policy(4096, 2.5, 1024, ("bridge", "dev-net"), True, ("my/image:1",)),
        path,
    )
    assert isinstance(cfg.defaults.cpus, float)


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    write(tmp_path, "[policy]\nallow_ports = true\n")
    cfg = load_config(tmp_path, IMAGE)
    assert cfg.policy.allow_ports is True
    assert cfg.defaults.image == IMAGE
    assert cfg.policy.max_pids == 4096


def test_config_is_frozen(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, IMAGE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.policy.allow_ports = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[policy]\nallow_port = true\n", "policy.allow_port"),
        ("[policy]\nmax_memory = 1\n", "policy.max_memory"),
        ("[defaults]\nnetwrok = 'bridge'\n", "defaults.netwrok"),
        ("[polcy]\nallow_ports = true\n", "polcy"),
        ("allow_ports = true\n", "allow_ports"),
    ],
)
def test_unknown_key_is_refused_by_name(tmp_path: Path, text: str, key: str) -> None:
    err = refused(tmp_path, text)
    assert err.data["key"] == key
    assert key.rsplit(".", 1)[-1] in err.message


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    err = refused(tmp_path, "[policy\nallow_ports = true\n")
    assert "TOML" in err.message


def test_section_must_be_a_table(tmp_path: Path) -> None:
    assert refused(tmp_path, "defaults = 3\n").data["key"] == "defaults"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[defaults]\nmemory_mb = '2g'\n", "defaults.memory_mb"),
        ("[defaults]\nmemory_mb = 8\n", "defaults.memory_mb"),
        ("[defaults]\ncpus = true\n", "defaults.cpus"),
        ("[defaults]\ncpus = 0\n", "defaults.cpus"),
        ("[defaults]\npids = 4\n", "defaults.pids"),
        ("[defaults]\nimage = ''\n", "defaults.image"),
        ("[defaults]\ntmp_size_mb = 1.5\n", "defaults.tmp_size_mb"),
        ("[defaults]\ntmp_size_mb = true\n", "defaults.tmp_size_mb"),
        ("[policy]\nallow_ports = 'yes'\n", "policy.allow_ports"),
        ("[policy]\nallowed_networks = 'bridge'\n", "policy.allowed_networks"),
        ("[policy]\nallowed_images = [1]\n", "policy.allowed_images"),
        ("[policy]\nmax_cpus = -1\n", "policy.max_cpus"),
        ("[policy]\nmax_pids = true\n", "policy.max_pids"),
    ],
)
def test_wrong_type_is_refused_by_key(tmp_path: Path, text: str, key: str) -> None:
    assert refused(tmp_path, text).data["key"] == key


@pytest.mark.parametrize("network", ["host", "HOST", "container:abc", "bad name"])
def test_allowed_networks_never_loosens_to_host(tmp_path: Path, network: str) -> None:
    err = refused(tmp_path, f"[policy]\nallowed_networks = ['bridge', '{network}']\n")
    assert err.data["key"] == "policy.allowed_networks"
    assert network in err.message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[defaults]\nmemory_mb = 4096\n[policy]\nmax_memory_mb = 2048\n", "defaults.memory_mb"),
        ("[defaults]\ncpus = 4\n[policy]\nmax_cpus = 2\n", "defaults.cpus"),
        ("[defaults]\npids = 600\n[policy]\nmax_pids = 500\n", "defaults.pids"),
        ("[defaults]\nnetwork = 'bridge'\n", "defaults.network"),
    ],
)
def test_defaults_must_fit_the_policy(tmp_path: Path, text: str, key: str) -> None:
    assert refused(tmp_path, text).data["key"] == key


def test_network_allowed_always_accepts_none() -> None:
    policy = Policy(allowed_networks=("bridge",))
    assert policy.network_allowed("none")
    assert policy.network_allowed("bridge")
    assert not policy.network_allowed("dev-net")
