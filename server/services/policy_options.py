"""The table of free-form ``options`` a createTask may carry, and what each one is allowed to do.

Clients may send raw docker create keys; most of them could undo the hardening (DESIGN §5), so the
rule is allow-list: a key missing from :data:`OPTION_RULES` is refused, a key mapped to a string is
refused with that reason, and a key mapped to a check is passed on only with a value the check accepts.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from dockyard.server.errors import PolicyRefused


class Drop:
    """Returned by a check when the value is already what the daemon sets (e.g. ``read_only=True``)."""


DROP: Final = Drop()
Check = Callable[[str, Any], Any]  # (wire field, value) -> value to pass on, DROP, or raises PolicyRefused

SHM_MAX_BYTES = 1 << 30
_SIZE = re.compile(r"^(\d+)([bkmg]?)$", re.IGNORECASE)
_SIGNAL = re.compile(r"^(SIG)?[A-Z0-9+-]{2,12}$|^[0-9]{1,2}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")
_UNCONFINED = ("seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined", "apparmor:unconfined")
_NNP_OFF = ("no-new-privileges=false", "no-new-privileges:false")
_LABEL_OFF = ("label=disable", "label:disable", "systempaths=unconfined", "systempaths:unconfined")
_NNP_ON = ("no-new-privileges", "no-new-privileges=true", "no-new-privileges:true")


def snake_case(key: str) -> str:
    """``networkMode``/``NetworkMode`` -> ``network_mode``, so every spelling hits the same rule."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _network_mode(field: str, value: Any) -> Any:
    text = str(value).lower()
    if text == "host" or text.startswith("container:"):
        raise PolicyRefused(field, f"network mode {value!r} shares another network stack; never allowed")
    raise PolicyRefused(field, "set the network with the `network` field, which policy checks")


def _security_opt(field: str, value: Any) -> Any:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyRefused(field, "must be a list of strings")
    for opt in value:
        low = opt.replace(" ", "").lower()
        if low in _UNCONFINED:
            raise PolicyRefused(field, f"{opt!r} removes the seccomp/AppArmor confinement")
        if low in _NNP_OFF:
            raise PolicyRefused(field, f"{opt!r} would let processes gain privileges (setuid)")
        if low in _LABEL_OFF:
            raise PolicyRefused(field, f"{opt!r} disables kernel path/label protections")
        if low not in _NNP_ON:
            raise PolicyRefused(field, f"{opt!r}: security options are set by the daemon only")
    return DROP  # only no-new-privileges, which is always set


def _is_root(part: str) -> bool:
    return part in ("root", "") or (part.isdigit() and int(part) == 0)


def is_root_user(user: str) -> bool:
    """uid or gid 0 in any spelling (``0``, ``root``, ``00:1000``, ``1000:0``); empty means the image's (root)."""
    uid, sep, gid = user.strip().lower().partition(":")
    return _is_root(uid) or (bool(sep) and _is_root(gid))


def _user(field: str, value: Any) -> Any:
    if is_root_user(str(value)):
        raise PolicyRefused(field, "tasks never run as root (uid or gid 0)")
    raise PolicyRefused(field, "the daemon chooses the task user (it must own the workspace files)")


def _read_only(field: str, value: Any) -> Any:
    if value is True:
        return DROP
    raise PolicyRefused(field, "the root filesystem is always read-only; write to /workspace, /tmp or /home/agent")


def _working_dir(field: str, value: Any) -> Any:
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value:
        raise PolicyRefused(field, "must be an absolute path")
    if ".." in value.split("/"):
        raise PolicyRefused(field, "must not contain '..'")
    return posixpath.normpath(value)


def _stop_signal(field: str, value: Any) -> Any:
    if not isinstance(value, str) or not _SIGNAL.match(value):
        raise PolicyRefused(field, "must be a signal name like SIGTERM or a number")
    return value


def _extra_hosts(field: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise PolicyRefused(field, "must be a mapping of host name to IPv4 address")
    for name, ip in value.items():
        if str(ip).strip().lower() == "host-gateway" or str(name).lower() == "host-gateway":
            raise PolicyRefused(field, "host-gateway would point the task at the host")
        if not isinstance(name, str) or not _HOSTNAME.match(name):
            raise PolicyRefused(field, f"{name!r} is not a host name")
        try:
            ipaddress.IPv4Address(ip)
        except (ValueError, TypeError):
            raise PolicyRefused(field, f"{name}: {ip!r} is not an IPv4 address") from None
    return dict(value)


def _shm_size(field: str, value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        m = _SIZE.match(str(value).strip())
        if not isinstance(value, str) or not m:
            raise PolicyRefused(field, "must be bytes or a size like '512m'")
        size = int(m.group(1)) * {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    if not 0 < size <= SHM_MAX_BYTES:
        raise PolicyRefused(field, f"must be between 1 byte and 1g (got {value!r})")
    return size


_HOST_NS = "joining a host namespace (or choosing one) breaks isolation; never allowed"
_MOUNTS = "bind mounts go through the `mounts` field, which policy checks"
_SET = "set by the daemon"

# option (snake_case) -> refusal reason, or a check for the value to pass on.
OPTION_RULES: Final[Mapping[str, str | Check]] = {
    "privileged": "privileged containers can take over the host; never allowed",
    "network_mode": _network_mode,
    "network": "use the `network` field",
    "pid_mode": _HOST_NS,
    "ipc_mode": _HOST_NS,
    "uts_mode": _HOST_NS,
    "userns_mode": _HOST_NS,
    "cgroupns": _HOST_NS,
    "devices": "host devices are never passed in",
    "device_requests": "host devices (GPUs included) are never passed in",
    "device_cgroup_rules": "device access rules are never loosened",
    "cap_add": "capabilities are all dropped and never added",
    "cap_drop": f"{_SET}: ALL capabilities are dropped",
    "security_opt": _security_opt,
    "volumes": _MOUNTS,
    "mounts": _MOUNTS,
    "binds": _MOUNTS,
    "volumes_from": "other containers' volumes are never shared",
    "volume_driver": "volume drivers are not selectable",
    "tmpfs": f"{_SET}: /tmp and /run are size-capped noexec tmpfs",
    "ports": "publish ports with the `ports` field (127.0.0.1 only, when the workspace allows it)",
    "publish_all_ports": "publish ports with the `ports` field (127.0.0.1 only, when the workspace allows it)",
    "links": "container links are not supported; use a network the workspace allows",
    "extra_hosts": _extra_hosts,
    "user": _user,
    "read_only": _read_only,
    "sysctls": "kernel parameters are never changed from a task",
    "oom_kill_disable": "the memory limit must stay enforceable",
    "runtime": "the container runtime is not selectable",
    "mem_limit": "use resources.memoryMb",
    "memswap_limit": f"{_SET}: swap equals the memory limit",
    "nano_cpus": "use resources.cpus",
    "pids_limit": "use resources.pids",
    "ulimits": f"{_SET}: nofile, nproc and core limits",
    "environment": "use the `env` and `envPassthrough` fields",
    "labels": "use the `labels` field",
    "working_dir": _working_dir,
    "stop_signal": _stop_signal,
    "shm_size": _shm_size,
}


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The docker create kwargs that ``options`` may contribute; refuses the first bad key."""
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, value in options.items():
        field = f"options.{key}"
        name = snake_case(key)
        if name in seen:
            raise PolicyRefused(field, f"same option as options.{seen[name]}")
        seen[name] = key
        rule = OPTION_RULES.get(name)
        if rule is None:
            raise PolicyRefused(field, "unknown create option")
        if isinstance(rule, str):
            raise PolicyRefused(field, rule)
        result = rule(field, value)
        if not isinstance(result, Drop):
            out[name] = result
    return out
