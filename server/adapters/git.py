"""The user's repository, through GitPython (the git CLI via ``repo.git`` where GitPython has no API).

Trust boundary (DESIGN §2): everything here runs git in the user's repository, which is trusted, or in a
task checkout *before* any container has seen it. Nothing here ever runs git inside a task checkout
afterwards: task commits arrive as bundles (:meth:`UserRepo.fetch_bundle`).
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from dockyard.server.adapters.locks import FileLock
from dockyard.server.errors import GitError, InvalidParams, MergeConflict

MAX_REF_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
SAFE_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_OPTIONAL_LOCKS": "0"}


def validate_ref(name: str, field: str) -> str:
    """Refuse ref names a client could use to inject options or escape refs/ (issue 3: hostile refs)."""
    problems = []
    if not name or len(name) > MAX_REF_LENGTH:
        problems.append(f"must be 1..{MAX_REF_LENGTH} characters")
    if name.startswith("-"):
        problems.append("must not start with '-'")
    if ".." in name or "@{" in name or name.endswith((".", "/", ".lock")) or "//" in name or name.startswith("/"):
        problems.append("must not contain '..', '@{', '//' or end with '.', '/' or '.lock'")
    if _CONTROL.search(name):
        problems.append("must not contain spaces, control characters or any of ~^:?*[\\")
    if problems:
        raise InvalidParams(f"{field}: invalid ref {name[:80]!r}: " + "; ".join(problems), {"field": field})
    return name


def slugify(title: str, limit: int = 40) -> str:
    """A branch-safe slug of a task title: ascii, lowercase, dash-separated, capped."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].strip("-")
    return slug or "task"


@contextmanager
def git_errors(action: str) -> Iterator[None]:
    try:
        yield
    except git.GitCommandError as exc:
        detail = (exc.stderr or exc.stdout or str(exc)).strip()
        raise GitError(f"{action}: {detail[-2000:]}", {"action": action, "status": exc.status}) from exc
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError) as exc:
        raise GitError(f"{action}: {exc}") from exc


def is_repository(path: Path) -> bool:
    try:
        git.Repo(path, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return False
    return True


class UserRepo:
    """The repository the editor opened (trusted)."""

    def __init__(self, path: Path) -> None:
        with git_errors(f"opening repository {path}"):
            self.repo = git.Repo(path)
        self.root = Path(self.repo.working_tree_dir or path)
        self.git_dir = Path(self.repo.git_dir)
        self.common_dir = Path(self.repo.common_dir)

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        with git_errors("git " + " ".join(args[:3])):
            out: str = self.repo.git.execute(
                ["git", *args], env={**SAFE_ENV, **(env or {})}, strip_newline_in_stdout=False
            )
        return out

    def try_run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """(exit status, stdout) without raising: for commands whose non-zero status is an answer."""
        status, out, _err = self.repo.git.execute(
            ["git", *args],
            env={**SAFE_ENV, **(env or {})},
            with_extended_output=True,
            with_exceptions=False,
            strip_newline_in_stdout=False,
        )
        return int(status), str(out)

    # --- object-level integration: no checkout of the user's is touched ---------------------------
    def merge_tree(self, ours: str, theirs: str, merge_base: str | None = None) -> tuple[str, list[str]]:
        """(tree, conflicting paths) of merging ``theirs`` into ``ours``, computed without a worktree."""
        args = ["merge-tree", "--write-tree", "--name-only", "--no-messages"]
        if merge_base and self.repo.git.version_info >= (2, 40):
            args.append(f"--merge-base={merge_base}")
        elif merge_base:  # git 2.38/2.39 have --write-tree but not --merge-base: give both sides that base
            ours, theirs = self._rebased_on(merge_base, ours, theirs)
        status, out = self.try_run(*args, ours, theirs)
        lines = out.splitlines()
        if status not in (0, 1) or not lines:
            raise GitError(f"git merge-tree failed ({status}): {out[-500:]}")
        return lines[0], sorted(set(lines[1:])) if status == 1 else []

    def _rebased_on(self, base: str, *commits: str) -> list[str]:
        """Parentless-base stand-ins: one commit with ``base``'s tree, and for each of ``commits`` a commit
        with its tree whose only parent is that one, so their merge base is exactly ``base``'s tree.
        (Unreferenced objects: harmless, and gc removes them.)"""
        env = {
            "GIT_AUTHOR_NAME": "Dockyard",
            "GIT_AUTHOR_EMAIL": "dockyard@localhost",
            "GIT_COMMITTER_NAME": "Dockyard",
            "GIT_COMMITTER_EMAIL": "dockyard@localhost",
        }
        root = self.commit_tree(self.tree_of(base), [], "merge base", env)
        return [self.commit_tree(self.tree_of(commit), [root], "side", env) for commit in commits]

    def tree_with_path_from(self, tree: str, path: str, source: str | None) -> str:
        """``tree`` with ``path`` replaced by its version in commit ``source`` (or removed if absent there)."""
        index = self.git_dir / f"dockyard-index-{os.getpid()}"
        env = {"GIT_INDEX_FILE": str(index)}
        try:
            self.run("read-tree", tree, env=env)
            self.run("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", path, env=env)
            if source is not None and self.try_run("cat-file", "-e", f"{source}:{path}")[0] == 0:
                self.run("read-tree", f"--prefix={path.rstrip('/')}/", f"{source}:{path}", env=env)
            return self.run("write-tree", env=env).strip()
        finally:
            index.unlink(missing_ok=True)

    def tree_of(self, commit: str) -> str:
        return self.run("rev-parse", f"{commit}^{{tree}}").strip()

    def commit_tree(self, tree: str, parents: list[str], message: str, env: dict[str, str]) -> str:
        """A commit object; identity from ``env`` (a replayed author), else the repository's (or Dockyard's)."""
        name, email = self.author()
        identity = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, "-m", message, env={**identity, **env}).strip()

    def commits_between(self, base: str, head: str) -> list[str]:
        """Oldest first, first-parent only."""
        return self.run("rev-list", "--reverse", "--first-parent", f"{base}..{head}").split()

    def commit_identity(self, commit: str) -> tuple[dict[str, str], str]:
        """(author env vars, message) of a commit, to replay it."""
        name, email, date, message = self.run("show", "-s", "--format=%an%x00%ae%x00%aI%x00%B", commit).split("\0", 3)
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date}
        return env, message.rstrip("\n")

    @contextmanager
    def ref_lock(self, timeout_s: float = 60.0) -> Iterator[None]:
        """Serialise ref moves and object-store writes on this repository across processes."""
        with FileLock(self.common_dir / "dockyard-refs.lock", timeout_s, what="repository lock"):
            yield

    # --- reading -------------------------------------------------------------------------------------
    def current_branch(self) -> str | None:
        out = self.run("symbolic-ref", "--quiet", "--short", "HEAD") if self._has_head_ref() else ""
        return out.strip() or None

    def _has_head_ref(self) -> bool:
        try:
            self.repo.git.symbolic_ref("--quiet", "HEAD")
        except git.GitCommandError:
            return False
        return True

    def resolve(self, ref: str) -> str:
        return self.run("rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}").strip()

    def branch_exists(self, branch: str) -> bool:
        try:
            self.repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}")
        except git.GitCommandError:
            return False
        return True

    def is_dirty(self, untracked: bool) -> bool:
        """Uncommitted changes, ignoring Dockyard's own ``.dockyard/`` (journal, mirrors, config)."""
        mode = "--untracked-files=normal" if untracked else "--untracked-files=no"
        out = self.run("--no-optional-locks", "status", "--porcelain", mode, "--", ".", ":(exclude).dockyard")
        return bool(out.strip())

    def checked_out_worktrees(self) -> dict[str, Path]:
        """branch -> worktree path, for every worktree of this repository with a branch checked out."""
        found: dict[str, Path] = {}
        path: Path | None = None
        for line in self.run("worktree", "list", "--porcelain").splitlines():
            if line.startswith("worktree "):
                path = Path(line[len("worktree ") :])
            elif line.startswith("branch refs/heads/") and path is not None:
                found[line[len("branch refs/heads/") :]] = path
        return found

    def ahead_behind(self, base: str, head: str) -> tuple[int, int]:
        behind, ahead = self.run("rev-list", "--left-right", "--count", f"{base}...{head}").split()
        return int(ahead), int(behind)

    def merge_base(self, a: str, b: str) -> str:
        return self.run("merge-base", a, b).strip()

    def is_ancestor(self, a: str, b: str) -> bool:
        try:
            self.repo.git.merge_base("--is-ancestor", a, b)
        except git.GitCommandError:
            return False
        return True

    def author(self) -> tuple[str, str]:
        reader = self.repo.config_reader()
        return (
            str(reader.get_value("user", "name", "Dockyard")),
            str(reader.get_value("user", "email", "dockyard@localhost")),
        )

    # --- writing (callers hold ref_lock) -------------------------------------------------------------
    def create_branch(self, branch: str, start: str) -> None:
        self.run("branch", "--no-track", "--end-of-options", branch, start)

    def delete_branch(self, branch: str) -> None:
        self.run("branch", "-D", "--end-of-options", branch)

    def update_ref(self, branch: str, new: str, old: str) -> None:
        """Compare-and-swap: fails if the branch moved since we read ``old``."""
        self.run("update-ref", f"refs/heads/{branch}", new, old)

    def fetch_bundle(self, bundle: Path, src_ref: str, branch: str) -> str:
        """Verify a bundle read out of a task, then fetch its branch into ``refs/dockyard/incoming/…``
        (never straight over a branch someone may have integrated into); returns the fetched commit."""
        self.run("bundle", "verify", str(bundle))
        # --no-recurse-submodules: only the bundle is read; moved gitlinks must not make the host fetch
        # from a submodule's remote (network; and it fails when that remote lacks the task's commits)
        self.run(
            "fetch",
            "--no-recurse-submodules",
            "--no-tags",
            "--no-write-fetch-head",
            str(bundle),
            f"+{src_ref}:{incoming_ref(branch)}",
        )
        return self.resolve(incoming_ref(branch))

    def advance_branch(self, branch: str, incoming: str, message: str) -> str:
        """Make ``branch`` contain ``incoming``: create it, fast-forward it, or, when work was integrated into
        it meanwhile (a subtask), record a merge of both. Never drops a commit; returns the branch head."""
        ref = f"refs/heads/{branch}"
        if not self.branch_exists(branch):
            self.run("update-ref", ref, incoming, "")
            return incoming
        current = self.resolve(ref)
        if self.is_ancestor(incoming, current):
            return current
        if self.is_ancestor(current, incoming):
            self.update_ref(branch, incoming, current)
            return incoming
        tree, conflicts = self.merge_tree(current, incoming)
        if conflicts:
            raise MergeConflict(
                f"{branch} moved (work was integrated into it) and conflicts with the task's new commits in "
                f"{', '.join(conflicts[:10])}; the task's commits are kept at {incoming_ref(branch)}",
                {"branch": branch, "files": conflicts, "incoming": incoming},
            )
        merged = self.commit_tree(tree, [current, incoming], message, {})
        self.update_ref(branch, merged, current)
        return merged


def incoming_ref(branch: str) -> str:
    """Where a task's fetched branch lands before it is moved onto the real branch."""
    return f"refs/dockyard/incoming/{branch}"


def clone_checkout(user: UserRepo, dest: Path, branch: str, start: str) -> git.Repo:
    """A standalone clone (its own .git; objects hard-linked) on ``branch`` at ``start``, with no remote,
    committing as the user (so an agent's commits inside the container carry the user's identity)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with git_errors(f"cloning into {dest}"):
        # --no-hardlinks: the checkout is handed to the task's uid; hard-linked object files would be the
        # user's own files, writable (after chmod) by the container
        clone = git.Repo.clone_from(str(user.root), str(dest), no_checkout=True, no_hardlinks=True, env=SAFE_ENV)
        clone.git.checkout("-q", "-B", branch, start)
        clone.git.remote("remove", "origin")
        name, email = user.author()
        with clone.config_writer() as config:
            config.set_value("user", "name", name)
            config.set_value("user", "email", email)
    return clone


def populate_submodules(clone: git.Repo, user_gitdir: Path) -> None:
    """Check out submodules (nested too) at their recorded commits from the user's own module clones: offline."""
    gitmodules = Path(clone.working_tree_dir or ".") / ".gitmodules"
    if not gitmodules.is_file():
        return
    with git_errors("populating submodules"):
        names = clone.git.config("-f", ".gitmodules", "--name-only", "--get-regexp", r"^submodule\..*\.path$")
        for key in names.splitlines():
            name = key[len("submodule.") : -len(".path")]
            path = clone.git.config("-f", ".gitmodules", key)
            source = user_gitdir / "modules" / name
            if not source.is_dir():
                continue  # the user never initialised it: nothing to copy offline
            clone.git.config(f"submodule.{name}.url", str(source))
            clone.git.execute(
                ["git", "-c", "protocol.file.allow=always", "submodule", "update", "--init", "--", path],
                env=SAFE_ENV,
            )
            populate_submodules(git.Repo(Path(clone.working_tree_dir or ".") / path), source)


def add_and_commit(clone: git.Repo, paths: list[str], message: str, author: tuple[str, str]) -> None:
    """Commit in a fresh checkout (before any container saw it): the task's memory templates."""
    env = {
        **SAFE_ENV,
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
    }
    with git_errors("committing task memory"):
        clone.git.execute(["git", "add", "--", *paths], env=env)
        clone.git.execute(
            ["git", "-c", "core.hooksPath=/dev/null", "commit", "-q", "--no-verify", "-m", message], env=env
        )


@dataclass(frozen=True)
class Submodule:
    """A submodule recorded in a commit: its path in the superproject checkout and the user's module clone."""

    path: str
    gitdir: Path
    commit: str


def _in_gitdir(gitdir: Path, *args: str) -> tuple[int, str]:
    """(exit status, stdout) of git in ``gitdir``; stderr appended when it failed, so errors say why."""
    status, out, err = git.Git().execute(
        ["git", f"--git-dir={gitdir}", *args],
        env=SAFE_ENV,
        with_extended_output=True,
        with_exceptions=False,
        strip_newline_in_stdout=False,
    )
    return int(status), str(out) if status == 0 else f"{out}{err}"


def submodules_at(gitdir: Path, commit: str, prefix: str = "") -> list[Submodule]:
    """Submodules (nested too) recorded at ``commit``, read from the user's repository only."""
    status, out = _in_gitdir(
        gitdir, "config", "--blob", f"{commit}:.gitmodules", "--get-regexp", r"^submodule\..*\.path$"
    )
    found: list[Submodule] = []
    for line in out.splitlines() if status == 0 else []:
        key, _, path = line.partition(" ")
        name = key[len("submodule.") : -len(".path")]
        module_dir = gitdir / "modules" / name
        code, recorded = _in_gitdir(gitdir, "rev-parse", f"{commit}:{path}")
        if not module_dir.is_dir() or code != 0:
            continue
        sub = Submodule(prefix + path, module_dir, recorded.strip())
        found += [sub, *submodules_at(module_dir, sub.commit, sub.path + "/")]
    return found


def fetch_bundle_into(gitdir: Path, bundle: Path, src_ref: str, branch: str) -> None:
    """:meth:`UserRepo.fetch_bundle` for a module clone (a git dir without its own worktree)."""
    for args in (
        ("bundle", "verify", str(bundle)),
        (
            "fetch",
            "--no-recurse-submodules",
            "--no-tags",
            "--no-write-fetch-head",
            str(bundle),
            f"+{src_ref}:refs/heads/{branch}",
        ),
    ):
        status, out = _in_gitdir(gitdir, *args)
        if status != 0:
            raise GitError(f"git {args[0]} in {gitdir} failed ({status}): {out[-500:]}")


def branch_submodules(checkout: Path, submodules: list[Submodule], branch: str, author: tuple[str, str]) -> None:
    """Put each populated submodule of a fresh checkout on the task branch (so an agent's commits there land
    on a branch that can be brought back by name), committing as the user."""
    for sub in submodules:
        path = checkout / sub.path
        if (path / ".git").exists():
            with git_errors(f"branching submodule {sub.path}"):
                module = git.Repo(path)
                module.git.checkout("-q", "-B", branch)
                with module.config_writer() as config:
                    config.set_value("user", "name", author[0])
                    config.set_value("user", "email", author[1])
