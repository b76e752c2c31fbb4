"""Rendering benchmarks P1, P2, P4 for the live view, in a real kernel against the local server.

    python benchmarks/bench_render.py [--size 200000] [--chunk 8] [--repeat 3]

P1  a long answer streamed as fast as the server can, many small deltas: `%%claude` with the live view
    against the raw SDK `text_stream` loop reading the same stream from the same server, both in the
    same kernel and the same run, alternated; ratio of medians (target <= 1.10). Also shown: the turn
    without a view, and the SDK's plain event stream read by a bare loop (the floor).
P1' the view's own cost: %%claude against the SDK's plain event stream (the floor), wall and kernel CPU,
    split into the core without a view and what the view adds (target <= 1.20); also as the median of
    each round's own ratio (paired: the four sides of a round run back to back, in an order that flips
    every round), which a shared machine's drifting speed disturbs least. `--overhead` measures it in this
    process instead: the CPU of the core and of the view on the same pre-built SDK events, nothing else.
    `--instructions` counts it where a noisy machine cannot blur it: the kernel runs under valgrind's
    callgrind, and each side's cell is counted in instructions (all the kernel's threads), the same turn
    as P1 (the pacer's interval is stretched by `--dilation`, the slowdown callgrind causes, so the view
    paints about as often per character as at full speed; the paints are counted and printed).
P2  CPU time of the live view (Markdown, highlighting, sanitizing, widgets, static output) replaying a
    100k and a 200k answer in this process with a paint every 4,000 characters; ratio 200k/100k
    (target <= 2.2, i.e. linear).
P4  widget updates per second (comm_msg on iopub; target <= 20) and bytes the kernel sent for widgets
    (comm_open + comm_msg + comm_close, whole messages) per byte of answer (target <= 3), for the fast
    stream of P1 and for a paced stream like a real answer (about 1,000 characters per second).
    The live view is the default stream widget; `--stock` measures the stock-ipywidgets view instead.

Prints figures and ratios; asserts nothing.
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
import time
from typing import Any

from jupyter_client.manager import start_new_kernel

MODEL = "claude-sonnet-5-5"      # the default model (an older id would make the SDK print deprecation warnings)
WORDS = ["the", "of", "model", "kernel", "stream", "widget", "render", "token", "cache", "answer", "notebook", "python", "value", "data", "frame", "list", "output", "thinking", "tool", "result", "a", "to", "in", "is", "for", "with"]


def sample_answer(size: int, seed: int = 0) -> str:
    """A Markdown answer of `size` characters: prose, headings, lists, tables, code, inline math."""
    rng = random.Random(seed)
    pieces: list[str] = []
    total = 0
    index = 0
    while total < size:
        index += 1
        kind = index % 9
        if kind == 0:
            body = f"## Section {index}\n\n"
        elif kind == 3:
            body = "".join(f"- item {j}: " + " ".join(rng.choice(WORDS) for _ in range(8)) + "\n"
                           for j in range(5)) + "\n"
        elif kind == 5:
            body = "```python\n" + "".join(f"def f{j}(x):\n    return x * {j}  # {rng.choice(WORDS)}\n"
                                           for j in range(4)) + "```\n\n"
        elif kind == 7:
            body = "| a | b | c |\n|---|---|---|\n" + "".join(f"| {j} | {rng.choice(WORDS)} | $x_{j}$ |\n"
                                                             for j in range(4)) + "\n"
        else:
            body = (" ".join(rng.choice(WORDS) for _ in range(60))
                    + f" with **bold**, `code` and $a_{index}^2$.\n\n")
        pieces.append(body)
        total += len(body)
    return "".join(pieces)[:size]


def serve() -> None:
    """Run the local server in this process: the prompt `size=N chunk=C delay=D seed=S` picks the answer."""
    from claude_magic.testing import LocalServer, Reply, text
    from claude_magic.testing.responder import last_user_text

    def answer(body: dict[str, Any]) -> Reply:
        spec = dict(re.findall(r"(\w+)=([\d.]+)", last_user_text(body)))
        size, chunk = int(spec.get("size", 1000)), int(spec.get("chunk", 8))
        delay, seed = float(spec.get("delay", 0)), int(spec.get("seed", 0))
        return Reply(text(sample_answer(size, seed)), chunk=chunk, delay=delay or None)

    with LocalServer() as server:
        server.accept_any_model = True
        server.default = answer
        print(server.base_url, flush=True)
        sys.stdin.read()          # until the benchmark closes our stdin


class Server:
    """The local server in its own process, so the benchmark's own work does not slow it down."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


class Kernel:
    """A real IPython kernel driven over ZMQ; `run` returns the cell's iopub messages with arrival times."""

    def __init__(self, env: dict[str, str], kernel_name: str = "python3", startup_timeout: float = 60.0) -> None:
        self.manager, self.client = start_new_kernel(kernel_name=kernel_name, env=env, startup_timeout=startup_timeout)

    @property
    def pid(self) -> int:
        return int(self.manager.provisioner.pid)

    def run(self, code: str, timeout: float = 600.0) -> tuple[float, list[tuple[float, dict[str, Any]]]]:
        """Execute; the time is until the execute_reply. Iopub is read afterwards (ZMQ buffers it), so
        reading it does not compete with the kernel; message times are the kernel's own `date` stamps."""
        msg_id = self.client.execute(code)
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        messages: list[tuple[float, dict[str, Any]]] = []
        started = None
        while True:
            message = self.client.get_iopub_msg(timeout=timeout)
            stamp = message["header"]["date"].timestamp()
            if message["msg_type"] == "execute_input" and message["parent_header"].get("msg_id") == msg_id:
                started = stamp
            messages.append((stamp, message))
            if (message["msg_type"] == "status" and message["content"]["execution_state"] == "idle"
                    and message["parent_header"].get("msg_id") == msg_id):
                break
        started = started if started is not None else messages[0][0]
        messages = [(stamp - started, message) for stamp, message in messages]
        elapsed = (reply["header"]["date"].timestamp() - started)
        for _at, message in messages:
            if message["msg_type"] == "error":
                raise RuntimeError("\n".join(message["content"]["traceback"]))
        return elapsed, messages

    def value(self, expression: str) -> Any:
        _elapsed, messages = self.run(f"print(__import__('json').dumps({expression}))")
        out = "".join(m["content"]["text"] for _at, m in messages if m["msg_type"] == "stream")
        return json.loads(out.strip().splitlines()[-1])

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


CPU = "__import__('time').process_time()"     # the kernel's CPU seconds, all threads


def raw_cell(prompt: str) -> str:
    """The raw SDK loop, as a user would write it."""
    return f"""
import anthropic as _anthropic
_client = _anthropic.Anthropic()
with _client.messages.stream(model={MODEL!r}, max_tokens=64000,
                             messages=[{{"role": "user", "content": {prompt!r}}}]) as _stream:
    for _piece in _stream.text_stream:
        pass
"""


def plain_cell(prompt: str) -> str:
    """The SDK's plain event stream (`messages.create(stream=True)`), reading each text fragment: the floor."""
    return f"""
import anthropic as _anthropic
_client = _anthropic.Anthropic()
with _client.messages.create(model={MODEL!r}, max_tokens=64000, stream=True,
                             messages=[{{"role": "user", "content": {prompt!r}}}]) as _stream:
    for _event in _stream:
        if _event.type == "content_block_delta" and _event.delta.type == "text_delta":
            _piece = _event.delta.text
"""


def magic_cell(prompt: str) -> str:
    return f"%%claude --new --max-tokens 64000\n{prompt}"


def core_cell(prompt: str) -> str:
    """The same turn through the session with no view at all: what the core costs by itself (the result is
    assigned: shown as the cell's value, its rich repr would render the whole answer as HTML and Markdown)."""
    return ("from claude_magic import get_session as _get_session\n"
            "from claude_magic.core.settings import TurnOptions as _TurnOptions\n"
            f"_result = _get_session().ask({prompt!r}, options=_TurnOptions(new=True))")


def widget_bytes(messages: list[tuple[float, dict[str, Any]]]) -> tuple[int, int, list[float]]:
    """(bytes of widget messages, number of comm_msg updates, arrival times of the updates)."""
    total = updates = 0
    times = []
    for at, message in messages:
        if message["msg_type"] in ("comm_open", "comm_msg", "comm_close"):
            total += sum(len(json.dumps(message[key], ensure_ascii=False, default=str).encode())
                         for key in ("header", "parent_header", "metadata", "content"))
            total += sum(len(buffer) for buffer in message.get("buffers") or [])
            if message["msg_type"] == "comm_msg":
                updates += 1
                times.append(at)
    return total, updates, times


def rates(times: list[float]) -> tuple[float, int]:
    """(updates per second over the streaming time, most updates in any one-second window)."""
    if len(times) < 2:
        return float(len(times)), len(times)
    span = max(times[-1] - times[0], 1e-9)
    peak = 0
    start = 0
    for end, at in enumerate(times):
        while at - times[start] > 1.0:
            start += 1
        peak = max(peak, end - start + 1)
    return len(times) / span, peak


PAINT_EVERY = 4_000        # characters between paints in P2 (4 paints a second at 16k characters a second)


def view_cost(size: int, chunk: int, seed: int = 0, *, stock: bool = False) -> float:
    """CPU seconds the live view spends on a `size`-character answer (events made here, paints every
    PAINT_EVERY characters, the final static output included)."""
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.testing.globalipapp import start_ipython

    from claude_magic.core.events import BlockFinished, BlockStarted, StepStarted, TextDelta, TurnFinished, TurnStarted
    from claude_magic.core.results import TurnResult
    from claude_magic.views.live import LiveView
    from claude_magic.views.stream_view import StreamView

    shell = start_ipython() or __import__("IPython").get_ipython()
    shell.display_pub = CapturingDisplayPublisher()
    answer = sample_answer(size, seed)
    started = time.process_time()
    view = (LiveView if stock else StreamView)(interval=3600, shell=shell)
    view(TurnStarted("t", MODEL, "", "go"))
    view(StepStarted(0))
    view(BlockStarted(0, 0, "text", {"type": "text", "text": ""}))
    since = 0
    for start in range(0, len(answer), chunk):          # made one at a time, as the agent emits them
        view(TextDelta(0, 0, answer[start:start + chunk]))
        since += chunk
        if since >= PAINT_EVERY:
            since = 0
            view.pacer.paint(force=True)
    view(BlockFinished(0, 0, {"type": "text", "text": answer}))
    view(TurnFinished(TurnResult("t", MODEL, "")))
    return time.process_time() - started


def overhead(size: int, chunk: int, repeat: int) -> None:
    """P1' in one process, where nothing else runs: the CPU our core and our view spend on the same SDK events
    (built beforehand with the SDK's own types), without the SDK's parsing; min of `repeat` runs."""
    from anthropic._models import construct_type
    from anthropic.types import RawMessageStreamEvent
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.testing.globalipapp import start_ipython

    from claude_magic.core.events import StepStarted, TurnFinished, TurnStarted
    from claude_magic.core.results import TurnResult
    from claude_magic.transport.stream import _Folder
    from claude_magic.views import render
    from claude_magic.views.stream_view import StreamView

    shell = start_ipython() or __import__("IPython").get_ipython()
    shell.display_pub = CapturingDisplayPublisher()

    def events(seed: int, length: int) -> list[Any]:
        answer = sample_answer(length, seed)
        raw = [{"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": MODEL,
                                                     "content": [], "stop_reason": None, "stop_sequence": None,
                                                     "usage": {"input_tokens": 5, "output_tokens": 1}}},
               {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
               *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": answer[i:i + chunk]}}
                 for i in range(0, len(answer), chunk)),
               {"type": "content_block_stop", "index": 0},
               {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 100}}, {"type": "message_stop"}]
        return [construct_type(type_=RawMessageStreamEvent, value=item) for item in raw]

    def turn(stream: list[Any], view: bool) -> float:
        render.highlight.cache_clear()          # every run renders afresh, like a new answer
        started = time.process_time()
        live = StreamView(interval=3600, shell=shell) if view else None
        emit = live if live is not None else (lambda _event: None)
        emit(TurnStarted("t", MODEL, "", "go"))
        emit(StepStarted(0))
        fold, since = _Folder(0, emit), 0
        for event in stream:
            fold(event)
            since += chunk
            if live is not None and since >= 40_000:          # a paint every 40,000 characters (~4 in P1)
                since = 0
                live.pacer.paint(force=True)
        fold.message.snapshot()
        if live is not None:
            live(TurnFinished(TurnResult("t", MODEL, "")))
        return time.process_time() - started

    turn(events(2, 20_000), True)                   # warm up: imports, lexers
    stream = events(1, size)
    core = min(turn(stream, False) for _ in range(repeat))
    both = min(turn(stream, True) for _ in range(repeat))
    print(f"P1' in one process ({len(stream):,} SDK events built beforehand; CPU, min of {repeat}): "
          f"core {core * 1e3:.1f} ms, core + stream view {both * 1e3:.1f} ms (the view {(both - core) * 1e3:.1f} ms)")


def callgrind_kernel(folder: str) -> str:
    """A kernelspec (in `folder`, put on JUPYTER_PATH) whose kernel runs under callgrind, instrumentation off."""
    spec = os.path.join(folder, "kernels", "callgrind")
    os.makedirs(spec)
    argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={folder}/cg.%p",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    with open(os.path.join(spec, "kernel.json"), "w") as handle:
        json.dump({"argv": argv, "display_name": "callgrind", "language": "python"}, handle)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [folder, os.environ.get("JUPYTER_PATH")]))
    return "callgrind"


def counted(kernel: Kernel, folder: str, code: str) -> tuple[int, list[tuple[float, dict[str, Any]]]]:
    """(instructions the kernel ran for `code`, its iopub messages): instrumentation on, the cell, off, a dump."""
    def control(*arguments: str) -> None:
        subprocess.run(["callgrind_control", *arguments, str(kernel.pid)], check=True, capture_output=True)

    before = set(os.listdir(folder))
    control("--instr=on")
    _elapsed, messages = kernel.run(code)
    control("--instr=off")
    control("--dump")
    dumps = sorted(set(os.listdir(folder)) - before)
    total = 0
    for name in dumps:
        with open(os.path.join(folder, name)) as handle:
            total += sum(int(line.split()[1]) for line in handle if line.startswith("totals:"))
    return total, messages


def instructions(args: argparse.Namespace) -> None:
    """P1' in instructions: %%claude, the core without a view and the SDK's plain event stream, in a kernel under
    callgrind; the median of `--repeat` rounds (the order flips every round)."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="bench-callgrind-")
    server = Server()
    env = dict(os.environ, ANTHROPIC_BASE_URL=server.base_url, ANTHROPIC_API_KEY="local-test-key",
               ANTHROPIC_MODEL=MODEL)
    kernel = Kernel(env, kernel_name=callgrind_kernel(folder), startup_timeout=600)
    try:
        kernel.run("%load_ext claude_magic")
        kernel.run("import claude_magic.views.stream_view as _sv\n"            # paints per character as at full speed
                   f"_sv.StreamView.__init__.__kwdefaults__.update(interval={0.25 * args.dilation}, "
                   f"max_wait=_sv.MAX_WAIT * {args.dilation})")
        cells = {"plain": plain_cell, "core": core_cell, "magic": magic_cell}
        for cell in cells.values():
            kernel.run(cell(prompt(5000, args.chunk)))                    # warm up: imports, first render
        counts: dict[str, list[int]] = {name: [] for name in cells}
        paints = []
        for run in range(args.repeat):
            big = prompt(args.size, args.chunk, seed=run + 1)
            for name in (cells if run % 2 == 0 else reversed(cells)):
                total, messages = counted(kernel, folder, cells[name](big))
                counts[name].append(total)
                if name == "magic":
                    paints.append(sum(1 for _at, m in messages if m["msg_type"] == "comm_msg"))
        plain, core, magic = (statistics.median(counts[name]) for name in ("plain", "core", "magic"))
        print(f"P1' in instructions (kernel under callgrind, {args.size:,} characters in deltas of {args.chunk}, "
              f"median of {args.repeat}; widget updates per %%claude turn: {paints}):")
        print(f"  SDK plain stream {plain / 1e6:,.0f}M · core, no view {core / 1e6:,.0f}M · "
              f"%%claude {magic / 1e6:,.0f}M   (each round: " + "; ".join(
                  f"{name} " + ", ".join(f"{count / 1e6:,.0f}M" for count in counts[name]) for name in cells) + ")")
        print(f"  P1' (the view's own cost): %%claude / plain stream {magic / plain:.3f} (target <= 1.20); "
              f"core alone {core / plain:.3f}, the view adds {(magic - core) / plain:.3f}")
    finally:
        kernel.close()
        server.close()


def prompt(size: int, chunk: int, delay: float = 0.0, seed: int = 0) -> str:
    return f"size={size} chunk={chunk} delay={delay} seed={seed}"


def report(label: str, messages: list[tuple[float, dict[str, Any]]], answer_bytes: int) -> None:
    size, updates, times = widget_bytes(messages)
    per_second, peak = rates(times)
    print(label)
    print(f"  widget updates: {updates} ({per_second:.1f}/s, at most {peak} in any second; target <= 20)")
    print(f"  widget bytes per answer byte: {size / answer_bytes:.2f}   (target <= 3)")


def paced_p4(kernel: Kernel, args: argparse.Namespace) -> None:
    """P4 on a stream paced like a real answer (about 1,000 characters per second)."""
    paced = sample_answer(args.paced_size, seed=1)
    elapsed, messages = kernel.run(magic_cell(prompt(args.paced_size, args.chunk, args.paced_delay, 1)))
    report(f"P4: paced stream, {len(paced):,} characters over {elapsed:.1f} s "
           f"({len(paced) / elapsed:,.0f} characters/s)", messages, len(paced.encode()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000, help="answer size for P1 (characters)")
    parser.add_argument("--chunk", type=int, default=8, help="characters per text delta")
    parser.add_argument("--repeat", type=int, default=9, help="alternated runs of each side for P1")
    parser.add_argument("--paced-size", type=int, default=12_000, help="answer size of the paced P4 stream")
    parser.add_argument("--paced-delay", type=float, default=0.008, help="seconds between events, paced stream")
    parser.add_argument("--only-p1", action="store_true", help="stop after P1")
    parser.add_argument("--only-paced", action="store_true", help="only P4 on the paced stream")
    parser.add_argument("--stock", action="store_true",
                        help="measure the stock-ipywidgets live view (%%config ClaudeMagic.stream_widget = False)")
    parser.add_argument("--overhead", action="store_true",
                        help="only P1' in this process: the CPU of the core and the view on pre-built SDK events")
    parser.add_argument("--instructions", action="store_true",
                        help="only P1', counted in instructions in a kernel under callgrind (needs valgrind)")
    parser.add_argument("--dilation", type=float, default=50.0,
                        help="--instructions: how much slower callgrind runs the kernel (stretches the pacer)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    if args.overhead:
        overhead(args.size, args.chunk, args.repeat)
        return 0
    if args.instructions:
        instructions(args)
        return 0

    server = Server()
    env = dict(os.environ, ANTHROPIC_BASE_URL=server.base_url, ANTHROPIC_API_KEY="local-test-key",
               ANTHROPIC_MODEL=MODEL)
    kernel = Kernel(env)
    try:
        kernel.run("%load_ext claude_magic")
        if args.stock:
            kernel.run("%config ClaudeMagic.stream_widget = False")
        if args.only_paced:
            kernel.run(magic_cell(prompt(5000, args.chunk)))          # warm up: imports, first Markdown render
            paced_p4(kernel, args)
            return 0
        kernel.run(magic_cell(prompt(5000, args.chunk)))          # warm up: imports, first Markdown render
        kernel.run(raw_cell(prompt(5000, args.chunk)))

        renderer = kernel.value("__import__('claude_magic.views.render', fromlist=['render']).renderer()")
        print(f"Markdown renderer in the kernel: {renderer}")
        answer = sample_answer(args.size)
        print(f"P1: {len(answer):,} characters in {len(answer) // args.chunk:,} deltas of {args.chunk}")
        raw_times, magic_times, core_times, plain_times = [], [], [], []
        cpu: dict[str, list[float]] = {"raw": [], "magic": [], "core": [], "plain": []}
        magic_messages: list[tuple[float, dict[str, Any]]] = []

        def measured(name: str, code: str) -> tuple[float, list[tuple[float, dict[str, Any]]]]:
            before = kernel.value(CPU)
            elapsed, messages = kernel.run(code)
            cpu[name].append(kernel.value(CPU) - before)
            return elapsed, messages

        cells = {"raw": raw_cell, "magic": magic_cell, "core": core_cell, "plain": plain_cell}
        times = {"raw": raw_times, "magic": magic_times, "core": core_times, "plain": plain_times}
        for run in range(args.repeat):
            # a new answer each round (same for the four sides), so no cache can make a later round cheaper;
            # the order flips every round, so a machine that slows down or speeds up favours no side
            big = prompt(args.size, args.chunk, seed=run + 1)
            for name in (cells if run % 2 == 0 else reversed(cells)):
                elapsed, messages = measured(name, cells[name](big))
                times[name].append(elapsed)
                if name == "magic":
                    magic_messages = messages
        final = [m for _at, m in magic_messages if m["msg_type"] == "update_display_data"][-1]
        shown = len(final["content"]["data"]["text/markdown"])
        raw, magic = statistics.median(raw_times), statistics.median(magic_times)
        print(f"  raw SDK text_stream : {', '.join(f'{t:.3f}' for t in raw_times)} s (median {raw:.3f})")
        print(f"  %%claude live view  : {', '.join(f'{t:.3f}' for t in magic_times)} s (median {magic:.3f}); "
              f"final output holds {shown:,} characters of Markdown")
        core = statistics.median(core_times)
        print(f"  core, no view       : {', '.join(f'{t:.3f}' for t in core_times)} s (median {core:.3f})")
        plain = statistics.median(plain_times)
        print(f"  SDK plain stream    : {', '.join(f'{t:.3f}' for t in plain_times)} s (median {plain:.3f}); "
              f"%%claude / plain {magic / plain:.2f} (the floor: parsing the events and nothing else)")
        print(f"  P1 ratio            : {magic / raw:.3f}   (target <= 1.10; core alone {core / raw:.3f})")
        paired = statistics.median(m / r for m, r in zip(magic_times, raw_times, strict=True))
        print(f"  paired ratio        : {paired:.3f}   (median of each round's %%claude / raw: the machine's speed "
              "drifts between rounds)")
        raw_cpu, magic_cpu, core_cpu = (statistics.median(cpu[name]) for name in ("raw", "magic", "core"))
        print(f"  kernel CPU seconds  : raw {raw_cpu:.3f}, %%claude {magic_cpu:.3f}, core {core_cpu:.3f} (medians); "
              f"ratio {magic_cpu / raw_cpu:.3f} (core alone {core_cpu / raw_cpu:.3f})")
        plain_cpu = statistics.median(cpu["plain"])
        print(f"  P1' (the view's own cost): %%claude / plain stream {magic / plain:.2f} wall, "
              f"{magic_cpu / plain_cpu:.2f} kernel CPU (target <= 1.20); of which the core without a view "
              f"{core / plain:.2f} wall, {core_cpu / plain_cpu:.2f} CPU: the view adds "
              f"{(magic - core) / plain:.2f} wall, {(magic_cpu - core_cpu) / plain_cpu:.2f} CPU")
        pair = {name: statistics.median(c / p for c, p in zip(cpu[name], cpu["plain"], strict=True))
                for name in ("magic", "core")}
        print(f"  P1' paired          : {pair['magic']:.3f} kernel CPU (median of each round's %%claude / plain; "
              f"core alone {pair['core']:.3f}, the view adds {pair['magic'] - pair['core']:.3f})")
        lowest = {name: min(values) for name, values in cpu.items()}
        print(f"  lowest CPU seconds  : raw {lowest['raw']:.3f}, %%claude {lowest['magic']:.3f}, "
              f"core {lowest['core']:.3f}, plain {lowest['plain']:.3f}; ratio {lowest['magic'] / lowest['raw']:.3f} "
              f"(core alone {lowest['core'] / lowest['raw']:.3f}; %%claude / plain "
              f"{lowest['magic'] / lowest['plain']:.3f})")

        if args.only_p1:
            return 0
        print("P2: CPU time of the live view replaying a stream in this process (median of runs), painted every"
              f" {PAINT_EVERY:,} characters")
        view_cost(20_000, args.chunk, stock=args.stock)              # warm up: imports, lexers
        costs = {size: statistics.median(view_cost(size, args.chunk, seed, stock=args.stock)
                                         for seed in range(args.repeat))
                 for size in (100_000, 200_000)}
        print(f"  100k: {costs[100_000]:.3f} s   200k: {costs[200_000]:.3f} s   "
              f"ratio {costs[200_000] / costs[100_000]:.2f}   (target <= 2.2)")

        report("P4: fast stream (the last P1 %%claude run)", magic_messages, len(answer.encode()))
        paced_p4(kernel, args)
    finally:
        kernel.close()
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
