"""The ``dockyard`` command: ``serve`` (the daemon) and the client commands (task, image, doctor, demo)."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

from dockyard.server.cli.errors import CliError, describe_rpc_error
from dockyard.server.cli.parser import build_parser
from dockyard.server.cli.rpc import RpcError
from dockyard.server.errors import DockyardError

Command = Callable[[argparse.Namespace], int]


def serve(args: argparse.Namespace) -> int:
    from dockyard.server.serve import serve_stdio

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if args.log_level.lower() != "debug":
        # pygls logs every error reply with a traceback; those are answers to clients, not daemon faults.
        logging.getLogger("pygls").setLevel(logging.CRITICAL)
    workspace = getattr(args, "workspace", None)
    return serve_stdio(Path(workspace) if workspace else None, max_frame=args.max_frame)


def resolve(target: str) -> Command:
    """``"package.module:function"`` -> the function."""
    module_name, _, attr = target.partition(":")
    return cast(Command, getattr(importlib.import_module(module_name), attr))


def _fail(message: str, code: int = 1) -> int:
    print(f"dockyard: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(resolve(args.run)(args))
    except RpcError as exc:
        return _fail(describe_rpc_error(exc))
    except CliError as exc:
        return _fail(exc.message, exc.code)
    except DockyardError as exc:
        return _fail(exc.message)
    except TimeoutError as exc:
        return _fail(f"timed out: {exc}")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # the reader closed stdout (`| head`): quiet, and keep Python's exit-time flush from complaining
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
