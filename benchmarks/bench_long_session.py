"""Long-session benchmark: time per turn at turn 1 and turn 500 of one conversation, against the local server.

    python benchmarks/bench_long_session.py [--turns 500] [--view live|none]

Every turn sends the whole history (the API is stateless), so a turn's cost grows with the conversation:
the SDK serializes it, the local server parses and validates it. To separate that from the extension's
own work, the last turn is compared with the raw SDK streaming the same request from the same server in
the same run (15 each, interleaved). `--view live` paints every turn with the ipywidgets live view (in an
IPython shell whose display outputs are discarded), as a notebook would.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from typing import Any

os.environ.setdefault("ANTHROPIC_API_KEY", "local-test-key")

from claude_magic.core.settings import Settings  # noqa: E402
from claude_magic.engines.context_notes import managed_params  # noqa: E402
from claude_magic.session import Session  # noqa: E402
from claude_magic.testing import LocalServer  # noqa: E402
from claude_magic.transport.context_management import sent_messages  # noqa: E402
from claude_magic.transport.request import build_params  # noqa: E402

MODEL = "claude-sonnet-5-5"


def prompt(number: int) -> str:
    return f"Question {number}: what changed in the data since the previous question, in one short paragraph?"


def live_view_factory() -> Any:
    """A function making one live view per turn, in an IPython shell that discards display outputs."""
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    from claude_magic.views.live import LiveView

    class Discarding(DisplayPublisher):
        def publish(self, *args: Any, **kwargs: Any) -> None:
            return None

    start_ipython()
    shell = InteractiveShell.instance()
    shell.display_pub = Discarding()
    return lambda: LiveView(interval=0.05, shell=shell)


def raw_sdk_turn(session: Session, server: LocalServer) -> float:
    """The raw SDK streaming the next request of this conversation (what any client must pay)."""
    conversation = session.conversation()
    messages = [*sent_messages(conversation.messages), {"role": "user", "content": [{"type": "text", "text": prompt(0)}]}]
    client = session.clients.get(session.settings)
    params = managed_params(client, build_params(messages, session.settings), session.settings, session.catalog)[0]
    started = time.perf_counter()     # the same request claude-magic sends (context management included)
    messages_api = client.beta.messages if "betas" in params else client.messages
    with messages_api.stream(**params) as stream:
        for _event in stream:
            pass
    elapsed = time.perf_counter() - started
    server.clear()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--view", choices=["live", "none"], default="live")
    arguments = parser.parse_args()
    make_view = live_view_factory() if arguments.view == "live" else (lambda: None)
    with LocalServer() as server:
        session = Session(Settings(base_url=server.base_url, model=MODEL, max_retries=0))
        seconds: list[float] = []
        threads = threading.active_count()
        for number in range(1, arguments.turns + 1):
            started = time.perf_counter()
            result = session.ask(prompt(number), emit=make_view())
            seconds.append(time.perf_counter() - started)
            if result.status != "complete" or server.rejections:
                raise SystemExit(f"turn {number} failed: {result.error or server.rejections[-1][1]}")
            server.clear()             # the server's records would otherwise grow with every request
        size = len(json.dumps(session.conversation().to_dict()))
        raws, ours = [], []
        for _ in range(15):            # interleaved, so that the machine's load weighs on both alike
            raws.append(raw_sdk_turn(session, server))
            started = time.perf_counter()
            session.ask(prompt(arguments.turns + 1), emit=make_view())
            ours.append(time.perf_counter() - started)
            session.conversation().pop()
            server.clear()
        raw, last = statistics.median(raws), statistics.median(ours)
        paired = statistics.median(mine - theirs for mine, theirs in zip(ours, raws, strict=True))

    def window(start: int, end: int) -> str:
        return f"{statistics.median(seconds[start - 1:end]) * 1000:.1f} ms"

    turns = arguments.turns
    print(f"long session: {turns} turns, view={arguments.view}, {len(session.conversation().messages)} messages, "
          f"{size / 1024:.0f} KiB of conversation JSON at the end")
    print(f"  turn 1 (imports, first connection): {seconds[0] * 1000:.1f} ms")
    print(f"  turns 2-11 (median):                {window(2, 11)}")
    if turns >= 100:
        print(f"  turns {turns // 2 - 4}-{turns // 2 + 5} (median):            {window(turns // 2 - 4, turns // 2 + 5)}")
    print(f"  turns {turns - 9}-{turns} (median):            {window(turns - 9, turns)}")
    print(f"  turn {turns}:                          {seconds[-1] * 1000:.1f} ms")
    print(f"  at turn {turns + 1}: claude-magic {last * 1000:.1f} ms vs raw SDK {raw * 1000:.1f} ms for the same "
          f"request (medians of 15, interleaved): the extension adds {(last - raw) * 1000:.1f} ms "
          f"(median of the paired differences {paired * 1000:.1f} ms)")
    print(f"  threads: {threads} before, {threading.active_count()} after")


if __name__ == "__main__":
    main()
