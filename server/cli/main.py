"""The ``dockyard`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dockyard.server.errors import DockyardError


def _serve(args: argparse.Namespace) -> int:
    from dockyard.server.serve import serve_stdio

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if args.log_level.lower() != "debug":
        # pygls logs every error reply with a traceback; those are answers to clients, not daemon faults.
        logging.getLogger("pygls").setLevel(logging.CRITICAL)
    return serve_stdio(Path(args.workspace) if args.workspace else None, max_frame=args.max_frame)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dockyard", description="Hardened per-task containers for coding work.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the daemon (JSON-RPC, LSP framing)")
    serve.add_argument("--stdio", action="store_true", default=True, help="speak on stdin/stdout (the only mode)")
    serve.add_argument("--workspace", help="workspace root (default: the client's initialize rootUri)")
    serve.add_argument("--max-frame", type=int, default=16 * 1024 * 1024, help="largest accepted frame in bytes")
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(run=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except DockyardError as exc:
        print(f"dockyard: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
