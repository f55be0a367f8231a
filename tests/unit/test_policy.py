"""Policy: the hardened defaults every task gets, and every way a request is refused (DESIGN §5)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from dockyard.protocol.task import CreateTaskParams
from dockyard.server import __version__
from dockyard.server.errors import PolicyRefused
from dockyard.server.services import policy
from dockyard.server.services.config import Defaults, Policy, WorkspaceConfig
from dockyard.server.services.policy import ContainerSpec, build_container_spec, redact_env
from dockyard.server.services.policy_options import OPTION_RULES, snake_case

IMAGE = "dockyard/sandbox:0.1.0"
TASK = "t-7f3a2c"
SECRET = "s3cr3t-value"


def config(**policy_kw: Any) -> WorkspaceConfig:
    network = policy_kw.pop("default_network", "none")
    return WorkspaceConfig(Defaults(image=IMAGE, network=network), Policy(max_cpus=4.0, **policy_kw))


def build(ws: Path, cfg: WorkspaceConfig | None = None, **wire: Any) -> ContainerSpec:
    params = CreateTaskParams.model_validate({"title": "a task", **wire})
    return build_container_spec(
        params,
        task_id=TASK,
        workspace=ws,
        config=cfg or config(),
        volume_name=f"dockyard-{TASK}",
        default_command=["sleep", "infinity"],
        host_env={"API_TOKEN": SECRET, "HOME": "/root"},
        apparmor=False,
    )


def refusal(ws: Path, cfg: WorkspaceConfig | None = None, **wire: Any) -> PolicyRefused:
    with pytest.raises(PolicyRefused) as info:
        build(ws, cfg, **wire)
    assert info.value.data == {"field": info.value.field, "reason": info.value.data["reason"]}
    return info.value


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print()\n")
    return root


# --- defaults -----------------------------------------------------------------------------------


def test_default_spec_snapshot(ws: Path) -> None:
    spec = build(ws)
    assert spec.image == IMAGE
    assert spec.network == "none"
    assert spec.kwargs == {
        "user": "1000:1000",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
        "tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,mode=1777,size=256m", "/run": "rw,noexec,nosuid,nodev,size=16m"},
        "mem_limit": "2048m",
        "memswap_limit": "2048m",
        "nano_cpus": 1_000_000_000,
        "pids_limit": 512,
        "ulimits": [
            {"Name": "nofile", "Soft": 4096, "Hard": 4096},
            {"Name": "nproc", "Soft": 16384, "Hard": 16384},
            {"Name": "core", "Soft": 0, "Hard": 0},
        ],
        "init": True,
        "restart_policy": {"Name": "no"},
        "healthcheck": {
            "test": ["CMD", "/bin/sh", "-c", "test -d /workspace"],
            "interval": 30_000_000_000,
            "timeout": 5_000_000_000,
            "retries": 3,
        },
        "network_mode": "none",
        "labels": {"dockyard.task": TASK, "dockyard.workspace": str(ws.resolve()), "dockyard.version": __version__},
        "volumes": {f"dockyard-{TASK}": {"bind": "/workspace", "mode": "rw"}},
        "working_dir": "/workspace",
        "environment": {},
        "hostname": TASK,
        "command": ["sleep", "infinity"],
    }
    assert spec.labels == spec.kwargs["labels"]


def test_defaults_hold_design_invariants(ws: Path) -> None:
    k = build(ws, resources={"memoryMb": 512, "cpus": 0.7, "pids": 64}).kwargs
    assert k["memswap_limit"] == k["mem_limit"] == "512m"
    assert k["nano_cpus"] == 700_000_000
    assert k["pids_limit"] == 64
    assert all({"noexec", "nosuid", "nodev"} <= set(opts.split(",")) for opts in k["tmpfs"].values())
    assert "cap_add" not in k and "privileged" not in k
    assert not any("seccomp" in opt for opt in k["security_opt"])
    assert all(u["Hard"] <= 20000 for u in k["ulimits"])


def test_apparmor_profile_only_where_the_host_has_it(ws: Path, tmp_path: Path, monkeypatch: Any) -> None:
    params = CreateTaskParams(title="x")
    args: dict[str, Any] = dict(
        task_id=TASK, workspace=ws, config=config(), volume_name="v", default_command=None, host_env={}
    )
    assert "apparmor=docker-default" in build_container_spec(params, apparmor=True, **args).kwargs["security_opt"]
    monkeypatch.setattr(policy, "APPARMOR_PATH", tmp_path / "nope")
    assert build_container_spec(params, **args).kwargs["security_opt"] == ["no-new-privileges:true"]
    monkeypatch.setattr(policy, "APPARMOR_PATH", tmp_path)
    assert "apparmor=docker-default" in build_container_spec(params, **args).kwargs["security_opt"]


def test_command_and_user(ws: Path) -> None:
    assert build(ws, command=["make", "test"]).kwargs["command"] == ["make", "test"]
    params = CreateTaskParams(title="x")
    args: dict[str, Any] = dict(task_id=TASK, workspace=ws, config=config(), volume_name="v", host_env={})
    spec = build_container_spec(params, default_command=None, user="1234:1234", **args)
    assert "command" not in spec.kwargs
    assert spec.kwargs["user"] == "1234:1234"
    for root in ("0", "root", "0:0", "1000:0", ""):
        with pytest.raises(ValueError):
            build_container_spec(params, default_command=None, user=root, **args)


# --- resources, image, network, labels, env -----------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "field", "ceiling"),
    [
        ({"memoryMb": 16385}, "resources.memoryMb", "16384"),
        ({"cpus": 4.5}, "resources.cpus", "4.0"),
        ({"pids": 4097}, "resources.pids", "4096"),
    ],
)
def test_resources_above_ceiling_refused(ws: Path, resources: dict[str, Any], field: str, ceiling: str) -> None:
    err = refusal(ws, resources=resources)
    assert err.field == field
    assert ceiling in err.data["reason"]


def test_resources_at_ceiling_and_partial_defaults(ws: Path) -> None:
    spec = build(ws, resources={"memoryMb": 16384, "cpus": 4})
    assert (spec.resources.memory_mb, spec.resources.cpus, spec.resources.pids) == (16384, 4.0, 512)


def test_image_allow_list(ws: Path) -> None:
    cfg = config(allowed_images=("ok/image:1",))
    assert refusal(ws, cfg, image="evil/image:1").field == "image"
    assert refusal(ws, cfg).field == "image"  # the default image is not listed either
    assert build(ws, cfg, image="ok/image:1").image == "ok/image:1"
    assert build(ws, image="anything:1").image == "anything:1"


@pytest.mark.parametrize("network", ["host", "HOST", "container:abc", "bridge", "dev-net"])
def test_network_refused(ws: Path, network: str) -> None:
    assert refusal(ws, network=network).field == "network"


def test_network_allowed_by_config(ws: Path) -> None:
    cfg = config(allowed_networks=("bridge",), default_network="bridge")
    assert build(ws, cfg).kwargs["network_mode"] == "bridge"  # workspace default when left out
    assert build(ws, cfg, network="none").network == "none"  # an explicit choice wins
    assert refusal(ws, cfg, network="host").field == "network"


@pytest.mark.parametrize("key", ["dockyard.task", "dockyard.anything", "Dockyard.x"])
def test_reserved_label_keys_refused(ws: Path, key: str) -> None:
    assert refusal(ws, labels={"team": "a", key: "x"}).field == f"labels.{key}"


def test_user_labels_kept(ws: Path) -> None:
    spec = build(ws, labels={"team": "a"})
    assert spec.labels["team"] == "a" and spec.labels["dockyard.task"] == TASK


def test_env_and_passthrough(ws: Path) -> None:
    spec = build(ws, env={"B": "1", "A": "2"}, envPassthrough=["API_TOKEN"])
    assert spec.kwargs["environment"] == {"B": "1", "A": "2", "API_TOKEN": SECRET}
    assert spec.env_keys == ["A", "API_TOKEN", "B"]
    assert SECRET not in repr(spec)
    assert SECRET not in repr(spec.labels) + repr(spec.env_keys)


def test_passthrough_missing_or_duplicated_refused(ws: Path) -> None:
    assert refusal(ws, envPassthrough=["API_TOKEN", "NOT_SET"]).field == "envPassthrough[1]"
    assert refusal(ws, env={"HOME": "/x"}, envPassthrough=["HOME"]).field == "envPassthrough[0]"


def test_redact_env() -> None:
    assert redact_env({"A": SECRET, "B": ""}) == {"A": "***", "B": "***"}


# --- options ------------------------------------------------------------------------------------

# fmt: off
OPTION_REFUSALS: list[dict[str, Any]] = [
    {"privileged": True}, {"Privileged": False}, {"networkMode": "host"}, {"network_mode": "container:abc"},
    {"NetworkMode": "bridge"}, {"network": "bridge"}, {"pid_mode": "host"}, {"pidMode": "container:x"},
    {"ipc_mode": "host"}, {"uts_mode": "host"}, {"userns_mode": "host"}, {"cgroupns": "host"},
    {"devices": ["/dev/sda:/dev/sda:rwm"]}, {"device_requests": [{"count": -1}]},
    {"device_cgroup_rules": ["c 1:3 mr"]}, {"cap_add": ["SYS_ADMIN"]}, {"capAdd": ["NET_RAW"]}, {"cap_drop": []},
    {"security_opt": ["seccomp=unconfined"]}, {"security_opt": ["seccomp:unconfined"]},
    {"securityOpt": ["apparmor=unconfined"]}, {"security_opt": ["apparmor:unconfined"]},
    {"security_opt": ["no-new-privileges=false"]}, {"security_opt": ["no-new-privileges:false"]},
    {"security_opt": ["label=disable"]}, {"security_opt": ["systempaths=unconfined"]},
    {"security_opt": ["seccomp=/tmp/weak.json"]}, {"security_opt": "seccomp=unconfined"},
    {"volumes": {"/": {"bind": "/host", "mode": "rw"}}}, {"mounts": [{"Source": "/", "Target": "/host"}]},
    {"binds": ["/:/host"]}, {"volumes_from": ["other"]}, {"volume_driver": "local"}, {"tmpfs": {"/tmp": "rw,exec"}},
    {"ports": {"80/tcp": 80}}, {"publish_all_ports": True}, {"links": {"db": "db"}},
    {"extra_hosts": {"host": "host-gateway"}}, {"extraHosts": {"h": "::1"}}, {"extra_hosts": ["h:1.2.3.4"]},
    {"extra_hosts": {"bad name!": "1.2.3.4"}}, {"user": "0"}, {"user": "root"}, {"user": "0:0"}, {"user": "1000:0"},
    {"user": "1001:1001"}, {"read_only": False}, {"readOnly": None}, {"sysctls": {"net.ipv4.ip_forward": "1"}},
    {"oom_kill_disable": True}, {"runtime": "runc"}, {"mem_limit": "64g"}, {"memswap_limit": -1},
    {"nano_cpus": 64_000_000_000}, {"pids_limit": -1},
    {"ulimits": [{"Name": "nofile", "Soft": 1048576, "Hard": 1048576}]}, {"environment": {"A": "1"}},
    {"labels": {"dockyard.task": "t-000000"}}, {"working_dir": "relative/dir"}, {"workingDir": "/workspace/../etc"},
    {"stop_signal": 9}, {"stopSignal": "SIG TERM"}, {"shm_size": "2g"}, {"shmSize": 0}, {"shm_size": "lots"},
    {"entrypoint": ["/bin/sh"]}, {"no_such_option": 1},
]
# fmt: on


def test_every_option_rule_has_a_refusal_case() -> None:
    covered = {snake_case(key) for case in OPTION_REFUSALS for key in case}
    assert set(OPTION_RULES) <= covered, set(OPTION_RULES) - covered


@pytest.mark.parametrize("options", OPTION_REFUSALS, ids=lambda o: f"{next(iter(o))}={next(iter(o.values()))!r}")
def test_option_refused(ws: Path, options: dict[str, Any]) -> None:
    (key,) = options
    err = refusal(ws, options=options)
    assert err.field == f"options.{key}"
    assert err.data["reason"]


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"privileged": True}, "privileged"),
        ({"network_mode": "host"}, "never allowed"),
        ({"network_mode": "bridge"}, "`network` field"),
        ({"security_opt": ["seccomp=unconfined"]}, "confinement"),
        ({"security_opt": ["apparmor:unconfined"]}, "confinement"),
        ({"security_opt": ["no-new-privileges:false"]}, "gain privileges"),
        ({"security_opt": ["label=disable"]}, "protections"),
        ({"extra_hosts": {"h": "host-gateway"}}, "at the host"),
        ({"user": "0:0"}, "root"),
        ({"volumes": {}}, "`mounts` field"),
    ],
)
def test_option_refusal_says_why(ws: Path, options: dict[str, Any], why: str) -> None:
    assert why in refusal(ws, options=options).data["reason"]


def test_unknown_and_duplicate_options(ws: Path) -> None:
    assert refusal(ws, options={"foo": 1}).data["reason"] == "unknown create option"
    err = refusal(ws, options={"workingDir": "/a", "working_dir": "/b"})
    assert err.field == "options.working_dir"


def test_allowed_options_pass_through(ws: Path) -> None:
    options = {
        "workingDir": "/workspace/sub/",
        "stop_signal": "SIGINT",
        "extraHosts": {"db.local": "10.0.0.5"},
        "shmSize": "512m",
        "readOnly": True,
        "securityOpt": ["no-new-privileges:true"],
    }
    k = build(ws, options=options).kwargs
    assert k["working_dir"] == "/workspace/sub"
    assert k["stop_signal"] == "SIGINT"
    assert k["extra_hosts"] == {"db.local": "10.0.0.5"}
    assert k["shm_size"] == 512 * 1024 * 1024
    assert k["read_only"] is True
    assert k["security_opt"] == ["no-new-privileges:true"]
    assert "readOnly" not in k and "securityOpt" not in k


# --- mounts -------------------------------------------------------------------------------------


def mount(source: str, target: str = "/data", read_only: bool = True) -> dict[str, Any]:
    return {"source": source, "target": target, "readOnly": read_only}


def test_mount_inside_workspace_emitted(ws: Path) -> None:
    (ws / "link").symlink_to(ws / "src")  # a symlink that stays inside is fine
    spec = build(ws, mounts=[mount("src"), mount(str(ws / "link" / "main.py"), "/opt/main.py", read_only=False)])
    real = os.path.realpath(ws)
    assert spec.kwargs["volumes"] == {
        f"dockyard-{TASK}": {"bind": "/workspace", "mode": "rw"},
        f"{real}/src": {"bind": "/data", "mode": "ro"},
        f"{real}/src/main.py": {"bind": "/opt/main.py", "mode": "rw"},
    }


@pytest.mark.parametrize("source", ["../outside", "src/../../outside", "/etc", "/tmp", "a:b", "src,x", ""])
def test_mount_source_outside_or_malformed_refused(ws: Path, source: str) -> None:
    (ws.parent / "outside").mkdir()
    assert refusal(ws, mounts=[mount("src"), mount(source, "/other")]).field == "mounts[1].source"


def test_mount_dotdot_refused_even_when_it_stays_inside(ws: Path) -> None:
    err = refusal(ws, mounts=[mount("src/../src")])
    assert err.field == "mounts[0].source" and "'..'" in err.data["reason"]


def test_mount_symlink_escaping_workspace_refused(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").mkdir()
    (ws / "src" / "esc").symlink_to(tmp_path / "secret")
    err = refusal(ws, mounts=[mount("src/esc")])
    assert err.field == "mounts[0].source"
    assert "symlink" in err.data["reason"]


@pytest.mark.parametrize("name", ["missing", "dangling"])
def test_mount_source_must_exist(ws: Path, name: str) -> None:
    (ws / "dangling").symlink_to(ws / "gone")
    assert refusal(ws, mounts=[mount(name)]).field == "mounts[0].source"


def test_mount_unix_socket_in_workspace_refused(ws: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(ws / "src")  # AF_UNIX paths are short: bind a relative name
    with socket.socket(socket.AF_UNIX) as s:
        s.bind("agent-ipc")  # no .sock suffix: only stat can tell
        err = refusal(ws, mounts=[mount("src/agent-ipc")])
    assert err.field == "mounts[0].source"
    assert "socket" in err.data["reason"]


@pytest.mark.parametrize("source", ["/var/run/docker.sock", "/run/containerd/containerd.sock", "docker.sock", "x.sock"])
def test_mount_socket_names_refused(ws: Path, source: str) -> None:
    for name in ("docker.sock", "x.sock"):
        (ws / name).write_text("")  # even a regular file: the name is refused
    err = refusal(ws, mounts=[mount(source)])
    assert (err.field, "socket" in err.data["reason"]) == ("mounts[0].source", True)


def test_mount_fifo_refused(ws: Path) -> None:
    os.mkfifo(ws / "pipe")
    assert refusal(ws, mounts=[mount("pipe")]).field == "mounts[0].source"


@pytest.mark.parametrize(
    "target",
    ["relative", "/", "//", "/proc", "/sys/fs", "/dev/shm", "/etc", "//etc/x", "/usr/local", "/bin", "/sbin",
     "/lib", "/lib64", "/workspace", "/workspace/", "/var/run/docker.sock", "/run", "/a/../etc", "/x:/y", "/a,b"],
)  # fmt: skip
def test_mount_target_refused(ws: Path, target: str) -> None:
    assert refusal(ws, mounts=[mount("src", target)]).field == "mounts[0].target"


def test_mount_duplicates_refused(ws: Path) -> None:
    (ws / "docs").mkdir()
    assert refusal(ws, mounts=[mount("src", "/a"), mount("docs", "/a/")]).field == "mounts[1].target"
    assert refusal(ws, mounts=[mount("src", "/a"), mount("src/", "/b")]).field == "mounts[1].source"


def test_mount_inside_writable_mount_refused(ws: Path) -> None:
    (ws / "src" / "inner").mkdir()
    nested = [mount("src/inner", "/a"), mount("src", "/b", read_only=False)]
    assert refusal(ws, mounts=nested).field == "mounts[0].source"
    assert len(build(ws, mounts=[mount("src/inner", "/a"), mount("src", "/b")]).kwargs["volumes"]) == 3


def test_mount_of_trusted_paths(ws: Path, monkeypatch: Any) -> None:
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".dockyard" / "state").mkdir(parents=True)
    (ws / "sub" / ".git").mkdir(parents=True)
    for source, read_only in [(".dockyard", True), (".dockyard/state", True), (".", False), (".git", False),
                              (".git/hooks", False), ("sub", False)]:  # fmt: skip
        assert refusal(ws, mounts=[mount(source, read_only=read_only)]).field == "mounts[0].source", source
    assert len(build(ws, mounts=[mount("."), mount(".git", "/git"), mount("sub", "/sub")]).kwargs["volumes"]) == 4
    monkeypatch.chdir(ws / ".dockyard" / "state")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind("daemon")
        assert "socket" in refusal(ws, mounts=[mount(".")]).data["reason"]


# --- ports --------------------------------------------------------------------------------------

PORTS_OK = config(allow_ports=True, allowed_networks=("bridge",))


def test_ports_need_config_and_a_network(ws: Path) -> None:
    port = [{"containerPort": 8080}]
    assert refusal(ws, ports=port, network="none").field == "ports"
    err = refusal(ws, PORTS_OK, ports=port, network="none")
    assert err.field == "ports" and "none" in err.data["reason"]
    assert refusal(ws, config(allowed_networks=("bridge",)), ports=port, network="bridge").field == "ports"


def test_ports_loopback_only(ws: Path) -> None:
    ports = [
        {"containerPort": 8080},
        {"containerPort": 53, "hostPort": 5353, "protocol": "udp", "hostIp": "::1"},
    ]
    assert build(ws, PORTS_OK, ports=ports, network="bridge").kwargs["ports"] == {
        "8080/tcp": ("127.0.0.1", None),
        "53/udp": ("::1", 5353),
    }
    assert "ports" not in build(ws).kwargs


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"containerPort": 81, "hostIp": "0.0.0.0"}, "ports[1].hostIp"),
        ({"containerPort": 81, "hostIp": "::"}, "ports[1].hostIp"),
        ({"containerPort": 81, "hostIp": "localhost"}, "ports[1].hostIp"),
        ({"containerPort": 81, "hostIp": "192.168.1.5"}, "ports[1].hostIp"),
        ({"containerPort": 80}, "ports[1].containerPort"),
        ({"containerPort": 81, "hostPort": 8000}, "ports[1].hostPort"),
    ],
)
def test_port_refused(ws: Path, second: dict[str, Any], field: str) -> None:
    ports = [{"containerPort": 80, "hostPort": 8000}, second]
    assert refusal(ws, PORTS_OK, ports=ports, network="bridge").field == field
