"""P-MCP: the overhead of an MCP tool call through claude-magic, against the `mcp` client called directly.

Both talk to the same PyPI stdio server (`mcp-server-time`, tool `get_current_time`), in the same run:
- baseline: `await client.call_tool(...)` on an `mcp.Client`, timed inside its event loop;
- claude-magic: `Toolbox.run([tool_use])` (what the agent loop calls: consent check, the executor, the
  manager's loop thread, result conversion, redaction, the budget), timed from the calling thread;
  and `McpTool.call` (the manager path alone).
Batches alternate between the two so machine load hits both alike. Target: <= 5 ms more per call after
the first. The first call, server start and tool listing included, is reported separately.

`python benchmarks/bench_mcp.py [--calls 30] [--rounds 5]`
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from claude_magic.core.events import Event
from claude_magic.mcp.config import parse_servers
from claude_magic.mcp.source import McpToolSource
from claude_magic.tools import Toolbox
from claude_magic.tools.asyncloop import LoopThread

TARGET = 0.005
SERVER = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
ARGUMENTS = {"timezone": "UTC"}


def _ignore(_event: Event) -> None:
    return None


class Direct:
    """The baseline: one `mcp.Client` session in one task on its own loop thread; calls timed inside the loop."""

    def __init__(self) -> None:
        self.loop = LoopThread("bench-direct")
        self.requests: Any = None
        self.done: Any = None

    async def _session(self, opened: Any) -> None:
        """Open the client (anyio wants enter and exit in one task), then run batches until told to stop."""
        import asyncio

        from mcp import Client, StdioServerParameters

        self.requests = asyncio.Queue()
        started = time.perf_counter()
        async with Client(StdioServerParameters(command=SERVER["command"], args=SERVER["args"]), cache=None) as client:
            await client.list_tools()
            await client.call_tool("get_current_time", ARGUMENTS)
            opened.set_result(time.perf_counter() - started)
            while (request := await self.requests.get()) is not None:
                count, answer = request
                times = []
                for _ in range(count):
                    began = time.perf_counter()
                    await client.call_tool("get_current_time", ARGUMENTS)
                    times.append(time.perf_counter() - began)
                answer.set_result(times)

    def first(self) -> float:
        import concurrent.futures

        opened: concurrent.futures.Future[float] = concurrent.futures.Future()
        self.done = self.loop.submit(self._session(opened))
        return opened.result(60)

    def batch(self, count: int) -> list[float]:
        import concurrent.futures

        answer: concurrent.futures.Future[list[float]] = concurrent.futures.Future()
        self.loop.loop().call_soon_threadsafe(self.requests.put_nowait, (count, answer))
        return answer.result(120)

    def close(self) -> None:
        if self.requests is not None:
            self.loop.loop().call_soon_threadsafe(self.requests.put_nowait, None)
            self.done.result(30)
        self.loop.stop()


class ThroughClaudeMagic:
    """The same server as an `mcp__time__get_current_time` tool in a toolbox (policy allow)."""

    def __init__(self) -> None:
        self.source = McpToolSource(folders=[])
        self.source.set_configured(parse_servers({"time": SERVER}, "benchmark"))
        self.toolbox = Toolbox()
        self.toolbox.add_source(self.source)
        self.toolbox.configure(policies={"mcp__time__*": "allow"})
        self.calls = 0

    def _run_once(self) -> None:
        self.calls += 1
        call = {"type": "tool_use", "id": f"toolu_{self.calls}", "name": "mcp__time__get_current_time",
                "input": ARGUMENTS}
        [result] = self.toolbox.run([call], _ignore, None)
        assert not result.get("is_error"), result

    def first(self) -> float:
        started = time.perf_counter()
        self.toolbox.definitions(None)          # what a turn does first: start the server, list its tools
        self._run_once()
        return time.perf_counter() - started

    def batch(self, count: int) -> list[float]:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            self._run_once()
            times.append(time.perf_counter() - started)
        return times

    def manager_batch(self, count: int) -> list[float]:
        tool = self.toolbox["mcp__time__get_current_time"]
        times = []
        for _ in range(count):
            started = time.perf_counter()
            tool.call(ARGUMENTS)
            times.append(time.perf_counter() - started)
        return times

    def close(self) -> None:
        self.source.manager.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="calls per batch")
    parser.add_argument("--rounds", type=int, default=5, help="alternating batches of each")
    options = parser.parse_args()
    direct, ours = Direct(), ThroughClaudeMagic()
    try:
        first_direct = direct.first()
        first_ours = ours.first()
        direct_times: list[float] = []
        ours_times: list[float] = []
        manager_times: list[float] = []
        for _ in range(options.rounds):
            direct_times += direct.batch(options.calls)
            ours_times += ours.batch(options.calls)
            manager_times += ours.manager_batch(options.calls)
    finally:
        ours.close()
        direct.close()
    base = statistics.median(direct_times)
    through = statistics.median(ours_times)
    manager = statistics.median(manager_times)
    overhead = through - base
    print(f"MCP tool call, {len(direct_times)} calls each after the first (medians):")
    print(f"  mcp client directly (baseline)   {base * 1000:7.2f} ms")
    print(f"  McpTool.call (manager path)      {manager * 1000:7.2f} ms   ratio {manager / base:5.2f}")
    print(f"  Toolbox.run (agent loop's path)  {through * 1000:7.2f} ms   ratio {through / base:5.2f}")
    print(f"  overhead per call                {overhead * 1000:7.2f} ms   target <= {TARGET * 1000:.0f} ms: "
          f"{'met' if overhead <= TARGET else 'MISSED'}")
    print("First call, server start and tool listing included:")
    print(f"  mcp client directly              {first_direct * 1000:7.0f} ms")
    print(f"  claude-magic                     {first_ours * 1000:7.0f} ms   ratio {first_ours / first_direct:5.2f}")


if __name__ == "__main__":
    main()
