"""getTask and logs: Docker's inspect/stats/top/diff turned into the protocol's summaries."""

from __future__ import annotations

from typing import Any

from dockyard.protocol.task import (
    FileChange,
    GetTaskParams,
    InspectSummary,
    LogsParams,
    Stats,
    Task,
    TaskStatus,
    TopResult,
)
from dockyard.server.adapters.docker import DockerAdapter
from dockyard.server.errors import InvalidState
from dockyard.server.services.gitwork import GitWorkspace
from dockyard.server.services.registry import TaskRegistry

_CHANGE_KINDS = {0: "modified", 1: "added", 2: "deleted"}


def summarise_inspect(info: dict[str, Any]) -> InspectSummary:
    state, host, config = info.get("State", {}), info.get("HostConfig", {}), info.get("Config", {})
    return InspectSummary(
        status=state.get("Status", "unknown"),
        running=bool(state.get("Running")),
        paused=bool(state.get("Paused")),
        oom_killed=bool(state.get("OOMKilled")),
        exit_code=state.get("ExitCode"),
        pid=state.get("Pid") or None,
        started_at=state.get("StartedAt"),
        finished_at=state.get("FinishedAt"),
        health=(state.get("Health") or {}).get("Status"),
        user=config.get("User") or "",
        read_only_rootfs=bool(host.get("ReadonlyRootfs")),
        cap_drop=list(host.get("CapDrop") or []),
        cap_add=list(host.get("CapAdd") or []),
        security_opt=list(host.get("SecurityOpt") or []),
        network_mode=host.get("NetworkMode", ""),
        memory_bytes=int(host.get("Memory") or 0),
        memory_swap_bytes=int(host.get("MemorySwap") or 0),
        nano_cpus=int(host.get("NanoCpus") or 0),
        pids_limit=host.get("PidsLimit"),
        init=host.get("Init"),
    )


def summarise_stats(raw: dict[str, Any]) -> Stats:
    cpu, pre = raw.get("cpu_stats", {}), raw.get("precpu_stats", {})
    cpu_delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get("total_usage", 0)
    sys_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or [1])
    cpu_percent = (cpu_delta / sys_delta) * online * 100.0 if sys_delta > 0 and cpu_delta > 0 else 0.0
    mem = raw.get("memory_stats", {})
    cache = (mem.get("stats") or {}).get("cache", 0)
    used, limit = max(int(mem.get("usage", 0)) - int(cache), 0), int(mem.get("limit", 0))
    nets = (raw.get("networks") or {}).values()
    blkio = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    return Stats(
        cpu_percent=round(cpu_percent, 2),
        memory_bytes=used,
        memory_limit_bytes=limit,
        memory_percent=round(used * 100.0 / limit, 2) if limit else 0.0,
        pids=int((raw.get("pids_stats") or {}).get("current", 0)),
        net_rx_bytes=sum(int(n.get("rx_bytes", 0)) for n in nets),
        net_tx_bytes=sum(int(n.get("tx_bytes", 0)) for n in nets),
        block_read_bytes=sum(int(b.get("value", 0)) for b in blkio if b.get("op", "").lower() == "read"),
        block_write_bytes=sum(int(b.get("value", 0)) for b in blkio if b.get("op", "").lower() == "write"),
    )


class TaskReads:
    def __init__(self, registry: TaskRegistry, docker: DockerAdapter, git: GitWorkspace | None = None) -> None:
        self.registry = registry
        self.docker = docker
        self.git = git

    def git_summary(self, task: Task) -> dict[str, Any] | None:
        """Branch, target and ahead/behind as the user's repository sees them (as of the last sync)."""
        repo = self.git.repo if self.git is not None else None
        if repo is None or not task.branch or not repo.branch_exists(task.branch):
            return None
        head = repo.resolve(f"refs/heads/{task.branch}")
        summary: dict[str, Any] = {"branch": task.branch, "head": head, "target": task.target}
        if task.target and repo.branch_exists(task.target):
            summary["ahead"], summary["behind"] = repo.ahead_behind(repo.resolve(f"refs/heads/{task.target}"), head)
        return summary

    def get(self, params: GetTaskParams) -> TaskStatus:
        task = self.registry.get(params.task_id)
        status = TaskStatus(task=task)
        if "git" in params.include:
            status.git = self.git_summary(task)
        cid = task.container_id
        if cid is None or not params.include:
            return status
        wanted = set(params.include)
        if "inspect" in wanted:
            status.inspect = summarise_inspect(self.docker.inspect(cid))
        if "stats" in wanted:
            status.stats = summarise_stats(self.docker.stats(cid))
        if "top" in wanted and task.state.value in ("running", "paused"):
            top = self.docker.top(cid)
            status.top = TopResult(titles=top.get("Titles") or [], processes=top.get("Processes") or [])
        if "changes" in wanted:
            status.changes = [
                FileChange(path=c["Path"], kind=_CHANGE_KINDS.get(c.get("Kind", 0), "modified"))
                for c in self.docker.changes(cid)
            ]
        return status

    def logs(self, params: LogsParams) -> str:
        task = self.registry.get(params.task_id)
        if task.container_id is None:
            raise InvalidState(task.id, task.state.value, "read logs of")
        return self.docker.logs(task.container_id, params.tail, params.since).decode("utf-8", "replace")
