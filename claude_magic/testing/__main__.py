"""`python -m claude_magic.testing`: run the local Messages API server until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from .server import LocalServer

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m claude_magic.testing",
        description="A local stand-in for the Anthropic Messages API: echoes what you say, offline.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between streamed events (default: 0)")
    parser.add_argument("--api-key", default=None, help="accept only this API key (default: any key)")
    parser.add_argument("--any-model", action="store_true", help="accept model names outside the built-in list")
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start the server, print how to use it, serve until SIGINT or SIGTERM; exit status 0."""
    args = _parser().parse_args(argv)
    server = LocalServer(args.port, require_api_key=args.api_key, event_delay=args.delay, host=args.host)
    server.accept_any_model = args.any_model
    server.log_requests = not args.quiet
    finished = threading.Event()

    def _finish(signum: int, frame: FrameType | None) -> None:
        finished.set()

    signal.signal(signal.SIGINT, _finish)
    signal.signal(signal.SIGTERM, _finish)
    with server:
        key = args.api_key or "local-test-key"
        print(f"ANTHROPIC_BASE_URL={server.base_url}")
        print(f"Use it from a shell:  export ANTHROPIC_BASE_URL={server.base_url} ANTHROPIC_API_KEY={key}")
        print("Press Ctrl-C to stop.", flush=True)
        while not finished.wait(0.5):
            continue
    print("Local server stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
