"""Bytes sent over a 10-turn conversation whose first cell attaches a 10 MB PDF, with and without the Files API.

Runs the real agent loop and SDK against the local server (which keeps the size of every request body it
received and of every upload): `python benchmarks/bench_files_api.py [--size-mb 10] [--turns 10]`.
Target: with the Files API, everything sent (the upload and every request) ≤ 1.1 × the attachment's size;
without it, the base64 (4/3 of the file) goes out with every turn, about turns × 1.33 × its size.
Also reports the wall time of the whole conversation each way. The context-window check is off: the local
server estimates tokens from characters, so 13 MB of base64 would "overflow" it, while the API counts a
PDF by its pages.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from claude_magic.core.settings import Settings
from claude_magic.notebook.attachments import attachment_block
from claude_magic.session import Session
from claude_magic.testing import LocalServer

TARGET = 1.1


def conversation(size: int, turns: int, files_api_above: int | None, folder: Path) -> tuple[int, int, int, float]:
    """(bytes of message requests, bytes of other requests, uploads, seconds) for one run."""
    report = folder / "report.pdf"
    if not report.exists():
        report.write_bytes(b"%PDF-1.4\n" + os.urandom(size - 9))
    with LocalServer() as server:
        os.environ.setdefault("ANTHROPIC_API_KEY", "bench-key")
        session = Session(Settings(base_url=server.base_url, model="claude-sonnet-5-5", max_retries=0,
                                   files_api_above=files_api_above, context_window_check=False,
                                   context_management="off"))   # compaction would drop the inline copy: measure uploads alone
        started = time.perf_counter()
        first = [attachment_block(str(report), {}), {"type": "text", "text": "Summarize the report."}]
        opened = session.ask(first)
        assert opened.ok, opened.error
        for number in range(2, turns + 1):
            result = session.ask(f"Question {number} about the report.")
            assert result.ok, result.error
        elapsed = time.perf_counter() - started
        messages = sum(request.size for request in server.requests if request.is_message)
        other = sum(request.size for request in server.requests if not request.is_message)
        return messages, other, server.files.uploads, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=10.0)
    parser.add_argument("--turns", type=int, default=10)
    arguments = parser.parse_args()
    size = int(arguments.size_mb * 1024 * 1024)
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for label, above in (("Files API (files_api_above = 1 MB)", 1024 * 1024), ("inline base64 (None)", None)):
            messages, other, uploads, elapsed = conversation(size, arguments.turns, above, Path(folder))
            total = messages + other
            rows.append((label, total, messages, other, uploads, elapsed))
    print(f"{arguments.turns} turns, a {size / 1024 / 1024:.1f} MB PDF attached to the first")
    for label, total, messages, other, uploads, elapsed in rows:
        print(f"  {label:36} sent {total / 1024 / 1024:8.1f} MB = {total / size:5.2f} × the file "
              f"(messages {messages / 1024:,.0f} kB, uploads and other {other / 1024 / 1024:.1f} MB, "
              f"{uploads} upload(s)), {elapsed:.1f} s")
    ratio = rows[0][1] / size
    print(f"Files API: {ratio:.3f} × the attachment (target ≤ {TARGET}): {'met' if ratio <= TARGET else 'NOT met'}; "
          f"inline: {rows[1][1] / size:.2f} ×; {rows[1][1] / rows[0][1]:.1f} × less sent")


if __name__ == "__main__":
    main()
