"""The first `%%claude` cell of a new kernel: when it paints, and when its first token shows.

    python benchmarks/bench_first_cell.py [--rounds 5] [--pause 0 2] [--headless]

Each round starts a real IPython kernel (jupyter_client), runs `%load_ext claude_magic` in one cell, waits
`--pause` seconds (0: the next cell right away, as "Run All" sends it; 2: a person typing), then runs a
`%%claude` cell against `claude_magic.testing.LocalServer` in this process (`ANTHROPIC_BASE_URL` set for the
kernel). Execute requests allow stdin, as JupyterLab sends them, so the live view is used (`--headless`:
they do not, as nbclient sends them, and the refreshed display is used). From the kernel's own iopub stamps:
- paint: `execute_input` to the first message that shows something (display_data, update_display_data,
  comm_open or comm_msg). Target: <= 100 ms.
- first token: `execute_input` to the first message that shows the answer's first words.
- second cell: the same figures for a second `%%claude` cell in the same kernel (warm).
Baseline, in the same round: a fresh `python -c` that imports `anthropic` and makes the same streaming
request to the same server, timed from its first line to the first text delta. Target: the first cell's
first token no later than that.

Bytecode is cached in a temporary `PYTHONPYCACHEPREFIX` (warmed by an uncounted round), as in an install.
Prints min and median per figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).parent))
from bench_claude_code import shown_text  # noqa: E402

from claude_magic.testing import LocalServer, Reply, text  # noqa: E402

MODEL = "claude-sonnet-5-5"
KEY = "local-bench-key"
ANSWER = "Zebrafish regenerate their hearts. " * 20
MARKER = "Zebrafish"
PAINTS = ("display_data", "update_display_data", "comm_open", "comm_msg")
ROOT = Path(__file__).resolve().parent.parent

BASELINE = f"""
import time
started = time.perf_counter()
import anthropic
client = anthropic.Anthropic()
stream = client.messages.create(model={MODEL!r}, max_tokens=8192, stream=True,
                                messages=[{{"role": "user", "content": "Tell me about zebrafish."}}])
for event in stream:
    if event.type == "content_block_delta" and event.delta.type == "text_delta":
        print(time.perf_counter() - started)
        break
for event in stream:
    pass
"""


class Kernel:
    """A real IPython kernel; `cell` returns (paint, first token, reply) seconds from its message stamps."""

    def __init__(self, env: dict[str, str], cwd: str) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", env=env, cwd=cwd)

    def cell(self, code: str, *, allow_stdin: bool, timeout: float = 300.0) -> tuple[float, float, float]:
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": allow_stdin, "stop_on_error": False}
        message = self.client.session.msg("execute_request", content)
        self.client.shell_channel.send(message)
        msg_id = message["header"]["msg_id"]
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        started = paint = first = None
        inflaters: dict[str, Any] = {}
        while True:
            message = self.client.get_iopub_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            stamp = message["header"]["date"].timestamp()
            kind = message["msg_type"]
            if kind == "execute_input":
                started = stamp
            elif kind == "error":
                raise RuntimeError("\n".join(message["content"]["traceback"]))
            if paint is None and kind in PAINTS:
                paint = stamp
            if first is None and kind in PAINTS and MARKER in shown_text(message, inflaters):
                first = stamp
            if kind == "status" and message["content"]["execution_state"] == "idle":
                break
        assert started is not None
        done = reply["header"]["date"].timestamp()
        nan = float("nan")
        return ((paint - started) if paint else nan, (first - started) if first else nan, done - started)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def baseline(env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", BASELINE], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[0])


def one_round(server: LocalServer, env: dict[str, str], pause: float, allow_stdin: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        kernel = Kernel(env, folder)
        try:
            kernel.cell("%load_ext claude_magic", allow_stdin=allow_stdin)
            time.sleep(pause)
            server.queue(Reply(text(ANSWER)), Reply(text(ANSWER)))
            paint, first, total = kernel.cell("%%claude\nTell me about zebrafish.", allow_stdin=allow_stdin)
            paint2, first2, _ = kernel.cell("%%claude\nAnd their fins?", allow_stdin=allow_stdin)
        finally:
            kernel.close()
    server.queue(Reply(text(ANSWER)))
    return {"paint": paint, "first token": first, "cell": total, "second paint": paint2,
            "second first token": first2, "baseline first token": baseline(env)}


def describe(values: list[float]) -> str:
    return f"min {min(values) * 1000:7.0f} ms   median {statistics.median(values) * 1000:7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pause", type=float, nargs="+", default=[0.0, 2.0])
    parser.add_argument("--headless", action="store_true", help="execute requests without stdin (nbclient)")
    arguments = parser.parse_args()
    with LocalServer() as server, tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env.update(ANTHROPIC_BASE_URL=server.base_url, ANTHROPIC_API_KEY=KEY, PYTHONPYCACHEPREFIX=cache,
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
        env.pop("ANTHROPIC_AUTH_TOKEN", None)
        one_round(server, env, 0.0, not arguments.headless)          # compiles and caches the bytecode
        for pause in arguments.pause:
            figures: dict[str, list[float]] = {}
            for _ in range(arguments.rounds):
                for name, value in one_round(server, env, pause, not arguments.headless).items():
                    figures.setdefault(name, []).append(value)
            print(f"pause {pause:g} s after %load_ext, {arguments.rounds} rounds"
                  f"{' (headless)' if arguments.headless else ''}:")
            for name, values in figures.items():
                print(f"  {name:24s} {describe(values)}")
            ratio = [first - base for first, base in zip(figures["first token"], figures["baseline first token"], strict=True)]
            print(f"  {'first token - baseline':24s} {describe(ratio)}   target <= 0")


if __name__ == "__main__":
    main()
