"""P-CC: the Claude Code engine's overhead — `%%claude` in a real kernel against the bare bundled CLI.

    python benchmarks/bench_claude_code.py [--rounds 3] [--turns 6] [--size 1200] [--chunk 8] [--delay 0.004]

Every side talks to the same local server (`claude_magic.testing.LocalServer`, in its own process), which
answers each "Question number N" with the same `--size`-character answer in `--chunk`-character deltas, as
fast as it can (`--delay` seconds between events to pace it). Claude Code under the Agent SDK names its
session with a side request asking for JSON (`output_config.format`): the server answers it with a JSON
title, as the API does (an answer that is not a title makes the CLI ask again on every turn, at the same
moment as the turn's own request). Other side requests get an echo. Each round uses a fresh temporary HOME, `ANTHROPIC_BASE_URL` and an API key in
the CLI's environment, and the same CLI flags on every side (`--system-prompt "" --tools "" --model M
--thinking disabled --max-turns 40 --permission-mode default`, what the engine passes the CLI by default).

Four sides, interleaved turn by turn so the machine's load hits them alike:
- `%%claude`: a cell in a real IPython kernel with `ClaudeMagic.engine = "claude-code"` (the default kernel
  tools offered through the in-process MCP server, as a user has them). Time to first token: from the
  cell's `execute_input` to the first iopub message showing the answer's first delta (the live view's
  first paint); turn time: to the `execute_reply` (the view finished, the saved output written). Both are
  the kernel's own message stamps.
- engine alone: the same turn through `get_session().ask(...)` in the same kernel (conversation "engine",
  its own CLI process) with an `emit` that stamps the first `TextDelta`: the engine without the view.
- bare CLI, one long-lived process: `claude -p --input-format stream-json --output-format stream-json
  --include-partial-messages --verbose …`, one user message per turn on its stdin; first token: the first
  `text_delta` line on stdout; turn time: the `result` line. This is what the engine's process does, so it
  is the like-for-like baseline for turns 2 and later: ratio = `%%claude` / this, per turn.
- bare CLI, one process per prompt: `claude -p PROMPT --output-format stream-json
  --include-partial-messages --verbose …`, timed from the process start. This pays a process start on every
  prompt; it is the baseline for the first turn (where the engine starts its process too) and shows what
  a process per cell would cost on later turns.

The first turn is reported on its own: `%%claude` imports the Agent SDK (it imports mcp and jsonschema:
about 3.5 s of CPU here, most of the first turn), asks `claude auth status` once (the footer's credential
label), starts the CLI through its launcher (`engines/claude_code/launcher.py`) and initializes it (control
protocol, the MCP server's tool list). "engine alone" starts after the SDK is imported; the bare one-shot
CLI does none of that besides starting.

Proof that later turns start no process: `ClaudeMagic.claude_code_cli` points at a wrapper script that
appends its PID and first arguments to a log, then `exec`s the real CLI (same PID). After every turn the
benchmark counts the session processes started (`auth status` calls listed apart: one per conversation),
checks the engines' CLI PIDs (`LiveClient.pid`) are the ones the wrapper logged after turn 1, and that
the kernel's child processes running the CLI (from /proc) are exactly those.

Prints medians and ranges (for the ratios also a 95 % bootstrap interval of the median over turns, which
shows how far the turn-to-turn noise lets it move); asserts nothing but the process count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

MODEL = "claude-sonnet-5-5"
KEY = "local-bench-key"
TARGET = 1.10
FLAGS = ["--system-prompt", "", "--tools", "", "--model", MODEL, "--thinking", "disabled", "--max-turns", "40",
         "--permission-mode", "default"]
STREAM = ["--output-format", "stream-json", "--include-partial-messages", "--verbose"]
WORDS = ["the", "kernel", "stream", "answer", "notebook", "python", "value", "frame", "result", "cell", "data"]


def bundled_cli() -> str:
    from claude_magic.engines.claude_code.auth import bundled_cli as find

    cli = find()
    if not cli:
        sys.exit("The Claude Code CLI was not found: pip install 'claude-magic[claude-code]'")
    return cli


def answer_for(number: int, size: int) -> str:
    """The answer to question `number`: a marker first (so its first delta is recognisable), then prose."""
    words, total, index = [f"@{number}@"], 0, 0
    while total < size:
        word = WORDS[index % len(WORDS)]
        words.append(word)
        total += len(word) + 1
        index += 1
    return " ".join(words)[:size] + "."


def serve(size: int, chunk: int, delay: float) -> None:
    """The local server, in this process: "Question number N" gets `answer_for(N)`, a structured-output request
    (Claude Code naming its session) a JSON title as the API would give, anything else an echo."""
    from claude_magic.testing import LocalServer, Reply, text
    from claude_magic.testing.responder import echo_reply, last_user_text

    def answer(body: dict[str, Any]) -> Any:
        if ((body.get("output_config") or {}).get("format") or {}).get("type") == "json_schema":
            return Reply(text(json.dumps({"title": "Numbered questions"})))
        found = re.search(r"Question number (\d+)", last_user_text(body))
        if found is None:
            return echo_reply(body)
        return Reply(text(answer_for(int(found.group(1)), size)), chunk=chunk, delay=delay or None)

    with LocalServer() as server:
        server.accept_any_model = True
        server.default = answer
        print(server.base_url, flush=True)
        sys.stdin.read()          # until the benchmark closes our stdin


class Server:
    """The local server in its own process, so neither side's work slows it down."""

    def __init__(self, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "--serve", "--size", str(args.size), "--chunk", str(args.chunk),
                   "--delay", str(args.delay)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def cli_env(base_url: str, home: str) -> dict[str, str]:
    return {"HOME": home, "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": KEY, "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "64000"}


def first_delta_and_result(stdout: Any, started: float) -> tuple[float, float]:
    """Read stream-json lines until the `result`: (seconds to the first text delta, seconds to the result)."""
    first = None
    for line in stdout:
        message = json.loads(line)
        if first is None and message.get("type") == "stream_event":
            event = message["event"]
            if event.get("type") == "content_block_delta" and event["delta"].get("type") == "text_delta":
                first = time.perf_counter() - started
        elif message.get("type") == "result":
            if message.get("is_error"):
                raise RuntimeError(f"the bare CLI failed: {message.get('result')}")
            return (first if first is not None else float("nan")), time.perf_counter() - started
    raise RuntimeError("the bare CLI ended without a result")


class PersistentCli:
    """The bare CLI kept running, one user message per turn on stdin (what the Agent SDK does)."""

    def __init__(self, cli: str, env: dict[str, str], cwd: str) -> None:
        command = [cli, "-p", "--input-format", "stream-json", *STREAM, *FLAGS]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, env={**os.environ, **env}, cwd=cwd)
        self.started = time.perf_counter()
        self.turns = 0

    def turn(self, prompt: str) -> tuple[float, float]:
        assert self.process.stdin is not None and self.process.stdout is not None
        began = self.started if self.turns == 0 else time.perf_counter()   # turn 1 includes the start
        message = {"type": "user", "message": {"role": "user", "content": prompt}, "parent_tool_use_id": None}
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        self.turns += 1
        return first_delta_and_result(self.process.stdout, began)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class SdkClient:
    """The Agent SDK alone: one `ClaudeSDKClient` with the bare CLI's flags, driven by a bare asyncio loop on a
    thread of the benchmark (no kernel, no claude-magic). The floor for any tool built on the SDK."""

    def __init__(self, cli: str, env: dict[str, str], cwd: str) -> None:
        import asyncio
        import threading

        from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-sdk", daemon=True)
        self.thread.start()
        options = ClaudeAgentOptions(cli_path=cli, env=env, cwd=cwd, system_prompt="", tools=[], model=MODEL,
                                     thinking={"type": "disabled"}, max_turns=40, permission_mode="default",
                                     include_partial_messages=True)
        self.client = ClaudeSDKClient(options)
        self.started = time.perf_counter()
        self._call(self.client.connect())
        self.turns = 0

    def _call(self, coroutine: Any) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(300)

    async def _turn(self, prompt: str, began: float) -> tuple[float, float]:
        first = None
        await self.client.query(prompt)
        async for message in self.client.receive_response():
            event = getattr(message, "event", None)
            if first is None and isinstance(event, dict) and event.get("type") == "content_block_delta" and \
                    event["delta"].get("type") == "text_delta":
                first = time.perf_counter() - began
        return (first if first is not None else float("nan")), time.perf_counter() - began

    def turn(self, prompt: str) -> tuple[float, float]:
        began = self.started if self.turns == 0 else time.perf_counter()   # turn 1 includes the start
        self.turns += 1
        return self._call(self._turn(prompt, began))

    def close(self) -> None:
        try:
            self._call(self.client.disconnect())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


def one_shot(cli: str, env: dict[str, str], cwd: str, prompt: str) -> tuple[float, float]:
    """The bare CLI for one prompt: a process started, answering, exiting."""
    started = time.perf_counter()
    process = subprocess.Popen([cli, "-p", prompt, *STREAM, *FLAGS], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
                               env={**os.environ, **env}, cwd=cwd)
    try:
        return first_delta_and_result(process.stdout, started)
    finally:
        process.wait(timeout=30)


def shown_text(message: dict[str, Any], inflaters: dict[str, Any]) -> str:
    """What an iopub message shows: its JSON, plus widget buffers (the stream widget deflates its texts
    as one raw-deflate stream per widget, marked by "z" in the message)."""
    shown = json.dumps(message["content"])
    buffers = message.get("buffers") or []
    if message["msg_type"] == "comm_msg" and buffers:
        content = (message["content"].get("data") or {}).get("content") or {}
        comm = message["content"].get("comm_id", "")
        for buffer in buffers:
            data = bytes(buffer)
            if isinstance(content, dict) and "z" in content:
                data = inflaters.setdefault(comm, zlib.decompressobj(-15)).decompress(data)
            shown += data.decode("utf-8", "replace")
    return shown


class Kernel:
    """A real IPython kernel; `cell` returns (first-token, turn) seconds from the kernel's message stamps."""

    def __init__(self, env: dict[str, str], cwd: str) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", env=env, cwd=cwd)

    @property
    def pid(self) -> int:
        return int(self.manager.provisioner.pid)

    def run(self, code: str, marker: str | None = None, timeout: float = 300.0) -> tuple[float, float, str]:
        msg_id = self.client.execute(code)
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        started = first = None
        printed: list[str] = []
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
            elif kind == "stream":
                printed.append(message["content"]["text"])
            if marker is not None and first is None and kind not in ("status", "execute_input") and \
                    marker in shown_text(message, inflaters):
                first = stamp
            if kind == "status" and message["content"]["execution_state"] == "idle":
                break
        assert started is not None
        total = reply["header"]["date"].timestamp() - started
        return (first - started if first is not None else float("nan")), total, "".join(printed)

    def value(self, expression: str) -> Any:
        _first, _total, printed = self.run(f"print(__import__('json').dumps({expression}))")
        return json.loads(printed.strip().splitlines()[-1])

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def wrapper(folder: Path, cli: str) -> tuple[Path, Path]:
    """A `claude` that logs each start (its PID, which `exec` keeps, and its first arguments)."""
    log = folder / "starts.log"
    script = folder / "claude"
    script.write_text(f'#!/bin/sh\necho "$$ $1 $2" >> {str(log)!r}\nexec {cli!r} "$@"\n')
    script.chmod(0o755)
    return script, log


def starts(log: Path) -> tuple[list[int], int]:
    """(PIDs of session processes started, number of `claude auth status` calls)."""
    lines = log.read_text().splitlines() if log.exists() else []
    sessions = [int(line.split()[0]) for line in lines if "auth" not in line.split()[1:2]]
    return sessions, len(lines) - len(sessions)


def cli_children(pid: int, cli: str) -> list[int]:
    """The kernel's child processes running the CLI binary (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            executable = os.readlink(entry / "exe")
        except OSError:
            continue
        if int(fields[1]) == pid and os.path.realpath(executable) == os.path.realpath(cli):
            found.append(int(entry.name))
    return sorted(found)


ENGINE_CELL = """
import json as _json, time as _time
from claude_magic import get_session as _get_session
from claude_magic.core.events import TextDelta as _TextDelta
from claude_magic.core.settings import Settings as _Settings, TurnOptions as _TurnOptions
_first = []
_began = _time.perf_counter()
def _stamp(event):
    if not _first and isinstance(event, _TextDelta):
        _first.append(_time.perf_counter())
_result = _get_session().ask({question!r}, settings=_Settings(**{settings!r}),
                             options=_TurnOptions(conversation="engine"), emit=_stamp)
print(_json.dumps([_first[0] - _began if _first else None, _time.perf_counter() - _began, _result.status]))
"""
SIDES = ("magic", "engine", "sdk", "persistent", "one_shot")


def one_round(number: int, args: argparse.Namespace, server: Server, cli: str,
              figures: dict[str, list[list[tuple[float, float]]]]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cc-", ignore_cleanup_errors=True) as scratch:  # the CLI may still write .claude
        folder = Path(scratch)
        home, work = folder / "home", folder / "work"
        home.mkdir()
        work.mkdir()
        env = cli_env(server.base_url, str(home))
        script, log = wrapper(folder, cli)
        kernel_env = {key: value for key, value in os.environ.items()
                      if key not in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")}
        kernel = Kernel(kernel_env, str(work))
        settings = {"engine": "claude-code", "model": MODEL, "claude_code_cli": str(script), "claude_code_env": env}
        persistent = sdk = None
        try:
            kernel.run("%load_ext claude_magic\n"
                       "%config ClaudeMagic.engine = 'claude-code'\n"
                       f"%config ClaudeMagic.model = {MODEL!r}\n"
                       f"%config ClaudeMagic.claude_code_cli = {str(script)!r}\n"
                       f"%config ClaudeMagic.claude_code_env = {env!r}\n")
            time.sleep(args.pause)
            rows: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
            first_pids: list[int] = []
            for turn in range(1, args.turns + 1):
                question = f"Question number {turn}: answer it, please."
                rows["magic"].append(kernel.run(f"%%claude\n{question}", marker=f"@{turn}@")[:2])
                printed = kernel.run(ENGINE_CELL.format(question=question, settings=settings))[2]
                first, total, status = json.loads(printed.strip().splitlines()[-1])
                if status != "complete":
                    raise RuntimeError(f"the engine's turn ended {status}")
                rows["engine"].append((first, total))
                if persistent is None:
                    persistent = PersistentCli(cli, env, str(work))
                rows["persistent"].append(persistent.turn(question))
                if sdk is None:
                    sdk = SdkClient(cli, env, str(work))
                rows["sdk"].append(sdk.turn(question))
                rows["one_shot"].append(one_shot(cli, env, str(work), question))
                pids = kernel.value("[c.pid for c in __import__('claude_magic').get_session()"
                                    ".engines['claude-code'].clients.values()]")
                sessions, auth_calls = starts(log)
                children = cli_children(kernel.pid, cli)
                if turn == 1:
                    first_pids = sorted(pids)
                shown = "  ".join(f"{side} {rows[side][-1][0]:.3f}/{rows[side][-1][1]:.3f}" for side in SIDES)
                print(f"  round {number} turn {turn} (first token/turn, s): {shown} · CLI processes the kernel "
                      f"started: {len(sessions)} (+{auth_calls} auth status), engine PIDs {sorted(pids)}, "
                      f"kernel's CLI children {children}", flush=True)
                if sorted(sessions) != first_pids or sorted(pids) != first_pids or children != first_pids:
                    raise SystemExit(f"turn {turn} started another CLI process: logged {sessions}, engine {pids}, "
                                     f"children {children}, after turn 1 {first_pids}")
            for side, values in rows.items():
                figures[side].append(values)
        finally:
            if persistent is not None:
                persistent.close()
            if sdk is not None:
                sdk.close()
            kernel.close()


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} (range {min(values):.3f}–{max(values):.3f})"


def ratio_spread(values: list[float]) -> str:
    """`spread`, plus a 95 % bootstrap interval of the median: how far the turn-to-turn noise lets it move."""
    draw = random.Random(0)
    medians = sorted(statistics.median(draw.choices(values, k=len(values))) for _ in range(2000))
    return f"{spread(values)}, median's 95 % interval {medians[50]:.3f}–{medians[1949]:.3f}, n={len(values)}"


def ratios(figures: dict[str, list[list[tuple[float, float]]]], side: str, base: str, index: int,
           later: bool) -> list[float]:
    """Per turn, the same turn of the same round: side / base (turns 2+ when `later`, else turn 1)."""
    values = []
    for side_runs, base_runs in zip(figures[side], figures[base], strict=True):
        pairs = zip(side_runs[1:], base_runs[1:], strict=True) if later else [(side_runs[0], base_runs[0])]
        values += [ours[index] / theirs[index] for ours, theirs in pairs]
    return values


def summary(figures: dict[str, list[list[tuple[float, float]]]]) -> None:
    print()
    names = {"magic": "%%claude", "engine": "engine alone", "sdk": "Agent SDK alone", "persistent": "bare long-lived",
             "one_shot": "bare per prompt"}
    for index, label in ((0, "time to first token"), (1, "turn time")):
        print(f"{label}, seconds:")
        for turns, later in (("turn 1  ", False), ("turns 2+", True)):
            cells = []
            for side in SIDES:
                values = [row[index] for rounds in figures[side] for row in (rounds[1:] if later else rounds[:1])]
                cells.append(f"{names[side]} {spread(values)}")
            print(f"  {turns} " + " · ".join(cells))
        for side in ("magic", "engine", "sdk"):
            print(f"  ratio turns 2+, {names[side]} / bare long-lived: "
                  f"{ratio_spread(ratios(figures, side, 'persistent', index, True))}"
                  + (f"  (target <= {TARGET})" if side != "sdk" else "  (the floor: the SDK's own cost)"))
        for side in ("magic", "engine"):
            print(f"  ratio turns 2+, {names[side]} / Agent SDK alone: "
                  f"{ratio_spread(ratios(figures, side, 'sdk', index, True))}  (claude-magic's own cost)")
        for side in ("magic", "engine"):
            print(f"  ratio turn 1, {names[side]} / bare per prompt: "
                  f"{spread(ratios(figures, side, 'one_shot', index, False))}")
        print(f"  ratio turns 2+, %%claude / bare per prompt: {spread(ratios(figures, 'magic', 'one_shot', index, True))}"
              "  (`claude -p PROMPT`, a process per prompt: target <= 1.1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="fresh kernel, HOME and CLIs per round")
    parser.add_argument("--turns", type=int, default=6, help="turns per round (one conversation)")
    parser.add_argument("--size", type=int, default=1200, help="answer size (characters)")
    parser.add_argument("--chunk", type=int, default=8, help="characters per text delta")
    parser.add_argument("--delay", type=float, default=0.004, help="seconds between the server's events")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds between the %%load_ext cell and the first turn (a person typing: 2)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.size, args.chunk, args.delay)
        return 0
    cli = bundled_cli()
    print(f"CLI: {cli}; answer {args.size} characters in deltas of {args.chunk}, {args.delay} s apart; "
          f"{args.rounds} rounds of {args.turns} turns")
    server = Server(args)
    figures: dict[str, list[list[tuple[float, float]]]] = {side: [] for side in SIDES}
    try:
        for number in range(1, args.rounds + 1):
            one_round(number, args, server, cli, figures)
    finally:
        server.close()
    summary(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
