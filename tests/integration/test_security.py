"""DESIGN §5 against a real engine: every default is read back twice, from ``docker inspect`` and from a
probe inside the container through ``dockyard/exec``; every refusal is checked on the wire (-32015 naming
the field) and by the absence of anything the request could have created.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dockyard.protocol import methods as m
from dockyard.server.images import build

if TYPE_CHECKING:
    from conftest import Dock

pytestmark = pytest.mark.docker

MIB = 1 << 20
MEMORY_MB, CPUS, PIDS = 256, 0.5, 128
NOFILE_HOST_HARD = 20000  # DESIGN §6: container ulimits must stay at or below the host's hard limit
APPARMOR = Path("/sys/kernel/security/apparmor")
ZERO_CAPS = "0000000000000000"


@pytest.fixture(scope="module")
def hardened(module_dock: Dock) -> tuple[Dock, dict[str, Any], dict[str, Any]]:
    """A task with every default: the default image (sandbox) and its own CMD, limits set by the request."""
    task = module_dock.create(image=None, command=None, resources={"memoryMb": MEMORY_MB, "cpus": CPUS, "pids": PIDS})
    assert task["state"] == "running" and task["image"].startswith("dockyard/sandbox:")
    return module_dock, task, module_dock.inspect(task["id"])


def status_field(dock: Dock, task_id: str, pid: str, name: str) -> str:
    """A field of /proc/<pid>/status inside the task (``self`` is the probe itself, 1 is the init)."""
    line = dock.sh(task_id, f"grep '^{name}:' /proc/{pid}/status").strip()
    return line.split(":", 1)[1].strip()


# --- the defaults, each by inspect and by a probe -------------------------------------------------------------
def test_runs_as_non_root(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    assert info["Config"]["User"] == "1000:1000"
    assert dock.sh(task["id"], "id -u").strip() == "1000"
    assert dock.sh(task["id"], "id -g").strip() == "1000"
    for pid in ("self", "1"):  # the probe and the main process tree
        uids = status_field(dock, task["id"], pid, "Uid").split()
        assert uids and "0" not in uids, (pid, uids)


def test_every_capability_is_dropped(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    host = info["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert not host["CapAdd"]
    assert host["Privileged"] is False
    for pid in ("self", "1"):
        for name in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
            assert status_field(dock, task["id"], pid, name) == ZERO_CAPS, (pid, name)


def test_no_new_privileges(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    assert "no-new-privileges:true" in info["HostConfig"]["SecurityOpt"]
    for pid in ("self", "1"):
        assert status_field(dock, task["id"], pid, "NoNewPrivs") == "1", pid


def test_default_seccomp_and_apparmor_where_present(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    opts = info["HostConfig"]["SecurityOpt"]
    assert not [o for o in opts if "unconfined" in o or o.startswith("seccomp")], opts  # Docker's default profile
    for pid in ("self", "1"):
        assert status_field(dock, task["id"], pid, "Seccomp") == "2", pid  # 2 = filter mode
    if APPARMOR.exists():
        assert "apparmor=docker-default" in opts
        assert info["AppArmorProfile"] == "docker-default"
        assert "docker-default" in dock.sh(task["id"], "cat /proc/self/attr/current")
    else:  # this host has no AppArmor: nothing to ask for, and nothing may claim otherwise
        assert info["AppArmorProfile"] in ("", None)


def test_root_filesystem_is_read_only(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    assert info["HostConfig"]["ReadonlyRootfs"] is True
    root = dock.sh(task["id"], "awk '$2 == \"/\" {print $4}' /proc/mounts").split()
    assert root and root[-1].split(",")[0] == "ro"
    probe = dock.exec(task["id"], "echo x > /etc/x")
    assert probe["exitCode"] != 0
    assert "Read-only file system" in probe["stderr"]  # EROFS, not merely a permission problem
    probe = dock.exec(task["id"], "touch /usr/local/x")
    assert probe["exitCode"] != 0 and "Read-only file system" in probe["stderr"]
    # ...while the places a task is meant to write stay writable
    assert dock.sh(task["id"], "echo ok > /workspace/f && echo ok > /home/agent/f && cat /workspace/f").strip() == "ok"


def test_tmp_is_a_noexec_size_capped_tmpfs(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    flags = info["HostConfig"]["Tmpfs"]["/tmp"].split(",")
    assert {"noexec", "nosuid", "nodev"} <= set(flags)
    assert any(f.startswith("size=") for f in flags)
    mount = dock.sh(task["id"], "awk '$2 == \"/tmp\" {print $3, $4}' /proc/mounts").split()
    assert mount[0] == "tmpfs" and {"noexec", "nosuid", "nodev"} <= set(mount[1].split(","))
    dock.sh(task["id"], "cp /bin/true /tmp/true && chmod 755 /tmp/true && test -f /tmp/true")  # writable...
    probe = dock.exec(task["id"], "/tmp/true")  # ...but nothing there runs
    assert probe["exitCode"] == 126, probe
    assert "Permission denied" in probe["stderr"]
    assert dock.sh(task["id"], "/bin/true; echo $?").strip() == "0"  # the same binary runs from the image


def test_memory_limit_with_swap_equal_to_it(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    host = info["HostConfig"]
    assert host["Memory"] == MEMORY_MB * MIB
    assert host["MemorySwap"] == host["Memory"]
    cgroup = "/sys/fs/cgroup/memory"
    limit = dock.sh(task["id"], f"cat {cgroup}/memory.limit_in_bytes").strip()
    assert int(limit) == MEMORY_MB * MIB
    memsw = dock.exec(task["id"], f"cat {cgroup}/memory.memsw.limit_in_bytes")
    if memsw["exitCode"] == 0:  # present when the kernel accounts swap
        assert int(memsw["stdout"]) == MEMORY_MB * MIB


def test_cpu_quota(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    assert info["HostConfig"]["NanoCpus"] == int(CPUS * 1e9)
    cgroup = "/sys/fs/cgroup/cpu"
    quota, period = dock.sh(task["id"], f"cat {cgroup}/cpu.cfs_quota_us {cgroup}/cpu.cfs_period_us").split()
    assert int(quota) / int(period) == pytest.approx(CPUS)


def test_pids_limit(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    assert info["HostConfig"]["PidsLimit"] == PIDS
    assert dock.sh(task["id"], "cat /sys/fs/cgroup/pids/pids.max").strip() == str(PIDS)


def test_network_none(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    assert info["HostConfig"]["NetworkMode"] == "none"
    assert list(info["NetworkSettings"]["Networks"]) == ["none"]
    assert task["network"] == "none"
    assert dock.sh(task["id"], "ls /sys/class/net").split() == ["lo"]


def test_init_process(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    assert info["HostConfig"]["Init"] is True
    assert dock.sh(task["id"], "cat /proc/1/comm").strip() == "docker-init"


def test_restart_policy_no(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    # The probe (a dead main process stays dead) is in test_memory_hog_fails_the_task_with_reason_oom.
    _dock, _task, info = hardened
    assert info["HostConfig"]["RestartPolicy"]["Name"] in ("no", "")
    assert info["HostConfig"]["RestartPolicy"].get("MaximumRetryCount", 0) == 0
    assert info["RestartCount"] == 0


def test_labels(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    labels = info["Config"]["Labels"]
    assert labels["dockyard.task"] == task["id"]
    assert labels["dockyard.workspace"] == str(dock.workspace)
    assert task["labels"]["dockyard.task"] == task["id"]  # the wire says the same
    volumes = {
        v.name: v.attrs["Labels"] for v in dock.engine.volumes.list(filters={"label": f"dockyard.task={task['id']}"})
    }
    assert set(volumes) == {f"dockyard-{task['id']}-workspace", f"dockyard-{task['id']}-home"}
    assert all(v["dockyard.workspace"] == str(dock.workspace) for v in volumes.values())
    assert dock.sh(task["id"], "hostname").strip() == task["id"]


def test_healthcheck(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    check = info["Config"]["Healthcheck"]
    assert check["Test"] and check["Test"][0] in ("CMD", "CMD-SHELL")
    assert check["Interval"] > 0 and check["Timeout"] > 0 and check["Retries"] > 0
    assert "Health" in info["State"]
    argv = check["Test"][1:] if check["Test"][0] == "CMD" else ["/bin/sh", "-c", check["Test"][1]]
    assert dock.exec(task["id"], argv)["exitCode"] == 0  # the check passes in a healthy task


def test_ulimits(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    limits = {u["Name"]: u for u in info["HostConfig"]["Ulimits"]}
    assert 0 < limits["nofile"]["Soft"] <= limits["nofile"]["Hard"] <= NOFILE_HOST_HARD
    assert limits["core"]["Soft"] == limits["core"]["Hard"] == 0
    assert "nproc" in limits
    soft, hard, core = dock.sh(task["id"], "ulimit -Sn; ulimit -Hn; ulimit -c").split()
    assert int(soft) == limits["nofile"]["Soft"] and int(hard) == limits["nofile"]["Hard"] <= NOFILE_HOST_HARD
    assert core == "0"
    main = dock.sh(task["id"], "grep 'Max open files' /proc/1/limits").split()
    assert int(main[-3]) <= NOFILE_HOST_HARD and int(main[-2]) <= NOFILE_HOST_HARD


def test_no_docker_socket_and_only_task_volumes(hardened: tuple[Dock, dict[str, Any], dict[str, Any]]) -> None:
    dock, task, info = hardened
    mounts = {mt["Destination"]: mt for mt in info["Mounts"]}
    assert set(mounts) == {"/workspace", "/home/agent"}
    assert all(mt["Type"] == "volume" for mt in mounts.values())
    assert not [b for b in info["HostConfig"].get("Binds") or [] if ".sock" in b]
    found = dock.sh(task["id"], "find / -xdev -type s 2>/dev/null; ls /run /var/run 2>/dev/null; true")
    assert "docker.sock" not in found and "containerd.sock" not in found


# --- limits under load -------------------------------------------------------------------------------------
HOG = "a = []\nwhile True:\n    a.append(bytearray(1 << 20))\n"


def test_memory_hog_fails_the_task_with_reason_oom(dock: Dock) -> None:
    start = dock.mark()
    task = dock.create(image=None, command=["python3", "-c", HOG], resources={"memoryMb": 64})
    failed = dock.wait_state(task["id"], "failed", timeout=60, start=start)
    assert failed["reason"] == "oom"
    status = dock.get(task["id"])["task"]
    assert status["state"] == "failed" and status["reason"] == "oom"
    info = dock.inspect(task["id"])
    assert info["HostConfig"]["Memory"] == 64 * MIB == info["HostConfig"]["MemorySwap"]
    assert info["State"]["OOMKilled"] is True
    # restart policy "no", probed: the dead main process was not brought back
    assert info["State"]["Status"] == "exited" and info["RestartCount"] == 0
    assert dock.call(m.LIST_TASKS, {})["tasks"]  # the daemon is fine


FORK_LOOP = """
import os, time
kids, failed = [], 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        failed += 1
        if failed >= 10:
            break
        continue
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
peak = open("/sys/fs/cgroup/pids/pids.current").read().strip()
print(len(kids), failed, peak, flush=True)
for pid in kids:
    os.kill(pid, 9)
for pid in kids:
    os.waitpid(pid, 0)
"""


def test_fork_loop_is_capped_by_the_pids_limit(dock: Dock) -> None:
    """A bounded fork loop (200 tries, children killed after) with a timeout as a backstop: safe to run."""
    task = dock.create(image=None, command=None, resources={"pids": 64, "memoryMb": 512})
    result = dock.exec(task["id"], ["python3", "-c", FORK_LOOP], timeoutS=60)
    assert result["exitCode"] == 0, result
    kids, failed, peak = (int(x) for x in result["stdout"].split())
    assert failed > 0, "fork never failed: the pids limit did not hold"
    assert kids < 64 and int(peak) <= 64
    # the container and the daemon survived, and the processes are gone again
    assert dock.sh(task["id"], "echo alive").strip() == "alive"
    assert int(dock.sh(task["id"], "cat /sys/fs/cgroup/pids/pids.current")) < 10
    assert dock.inspect(task["id"])["State"]["Running"] is True
    assert dock.get(task["id"])["task"]["state"] == "running"


# --- refusals from the wire ------------------------------------------------------------------------------------
Prepare = Callable[[Path], None]


def _outside_dir(ws: Path) -> None:
    (ws.parent / "outside").mkdir(exist_ok=True)


def _escaping_symlink(ws: Path) -> None:
    _outside_dir(ws)
    (ws / "escape").symlink_to(ws.parent / "outside")


def _ports_allowed(ws: Path) -> None:
    """Loosen the workspace so the request reaches the port check itself."""
    (ws / ".dockyard").mkdir(exist_ok=True)
    (ws / ".dockyard" / "config.toml").write_text(
        '[policy]\nallow_ports = true\nallowed_networks = ["bridge"]\n', encoding="utf-8"
    )


SOCK = "/var/run/docker.sock"
REFUSALS: list[tuple[str, dict[str, Any], str, Prepare | None]] = [
    ("privileged", {"options": {"privileged": True}}, "options.privileged", None),
    ("network-host", {"network": "host"}, "network", None),
    ("network-mode-host", {"options": {"networkMode": "host"}}, "options.networkMode", None),
    ("pid-host", {"options": {"pidMode": "host"}}, "options.pidMode", None),
    ("ipc-host", {"options": {"ipcMode": "host"}}, "options.ipcMode", None),
    ("userns-host", {"options": {"usernsMode": "host"}}, "options.usernsMode", None),
    ("cap-add", {"options": {"capAdd": ["SYS_ADMIN"]}}, "options.capAdd", None),
    ("devices", {"options": {"devices": ["/dev/kmsg:/dev/kmsg:rwm"]}}, "options.devices", None),
    ("seccomp-unconfined", {"options": {"securityOpt": ["seccomp=unconfined"]}}, "options.securityOpt", None),
    ("apparmor-unconfined", {"options": {"securityOpt": ["apparmor:unconfined"]}}, "options.securityOpt", None),
    ("docker-sock-mount", {"mounts": [{"source": SOCK, "target": SOCK}]}, "mounts[0].source", None),
    (
        "docker-sock-volume-option",
        {"options": {"volumes": {SOCK: {"bind": SOCK, "mode": "rw"}}}},
        "options.volumes",
        None,
    ),
    ("mount-outside-absolute", {"mounts": [{"source": "/etc", "target": "/mnt/etc"}]}, "mounts[0].source", None),
    ("mount-dotdot", {"mounts": [{"source": "../outside", "target": "/mnt/o"}]}, "mounts[0].source", _outside_dir),
    (
        "mount-symlink-escape",
        {"mounts": [{"source": "escape", "target": "/mnt/o"}]},
        "mounts[0].source",
        _escaping_symlink,
    ),
    (
        "port-not-loopback",
        {"network": "bridge", "ports": [{"containerPort": 8080, "hostIp": "0.0.0.0"}]},
        "ports[0].hostIp",
        _ports_allowed,
    ),
    ("host-gateway", {"options": {"extraHosts": {"h": "host-gateway"}}}, "options.extraHosts", None),
    ("root-user", {"options": {"user": "0:0"}}, "options.user", None),
    ("unknown-option", {"options": {"oomScoreAdj": -1000}}, "options.oomScoreAdj", None),
]


@pytest.mark.parametrize(("params", "field", "prepare"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refused_on_the_wire_and_nothing_is_created(
    make_dock: Callable[..., Dock], workspace: Path, params: dict[str, Any], field: str, prepare: Prepare | None
) -> None:
    if prepare is not None:
        prepare(workspace)
    dock = make_dock()
    err = dock.error(m.CREATE_TASK, {"title": "refused", "image": build.test_tag(), **params})
    assert err.code == -32015, (err.code, err.message)
    assert err.data["field"] == field
    assert re.search(re.escape(field), err.message)
    assert dock.leftovers() == ([], [])  # no container, no volume with this workspace's label
    assert dock.all_tasks() == []  # and nothing journalled
