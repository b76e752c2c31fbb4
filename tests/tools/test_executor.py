"""The agent loop with real tools against the validating local server: steps, concurrency, failures, limits."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from claude_magic.core.cancellation import Cancellation
from claude_magic.core.events import Notice
from claude_magic.testing import Reply, block, redacted_thinking, text, thinking, tool_use
from claude_magic.tools import ToolContext, ToolOutput

from .conftest import Driver

BARRIER_WAIT = 20.0  # generous: only a broken (sequential) runner ever waits this long


def result_by_id(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["tool_use_id"]: item for item in results}


def test_multi_step_loop_sends_results_back_until_claude_stops(driver: Driver) -> None:
    @driver.toolbox.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    driver.server.queue(
        Reply(text("Adding."), tool_use("add", {"a": 1, "b": 2}, id="toolu_1")),
        Reply(tool_use("add", {"a": 3, "b": 4}, id="toolu_2")),
        Reply(text("1+2=3 and 3+4=7.")),
    )
    result = driver.ask("Add things.")
    assert result.status == "complete" and result.steps == 3
    assert result.text.endswith("3+4=7.")
    assert driver.tool_results(1) == [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "3"}]
    assert driver.tool_results(2) == [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "7"}]
    assert [event.status for event in driver.finished] == ["done", "done"]
    driver.assert_history_valid()


def test_parallel_sync_tools_run_concurrently_and_answer_in_call_order(driver: Driver) -> None:
    barrier = threading.Barrier(4, timeout=BARRIER_WAIT)
    threads: list[int] = []

    @driver.toolbox.tool
    def fetch(key: str) -> str:
        """Fetch a value (waits until all four fetches run at once: proves concurrency)."""
        threads.append(threading.get_ident())
        barrier.wait()
        return f"value of {key}"

    calls = [tool_use("fetch", {"key": key}, id=f"toolu_{key}") for key in "dcba"]
    driver.server.queue(Reply(*calls), Reply("Done."))
    result = driver.ask()
    assert result.status == "complete"
    results = driver.tool_results(1)
    assert [item["tool_use_id"] for item in results] == ["toolu_d", "toolu_c", "toolu_b", "toolu_a"]
    assert [item["content"] for item in results] == [f"value of {key}" for key in "dcba"]
    assert threading.main_thread().ident not in threads and len(set(threads)) == 4
    driver.assert_history_valid()


def test_async_tools_run_together_on_the_private_loop_even_inside_a_running_loop(driver: Driver) -> None:
    arrived: list[str] = []
    all_there = asyncio.Event()

    @driver.toolbox.tool
    async def lookup(key: str) -> dict[str, Any]:
        """Look a key up asynchronously (waits until both lookups run at once)."""
        arrived.append(key)
        if len(arrived) == 2:
            all_there.set()
        await asyncio.wait_for(all_there.wait(), BARRIER_WAIT)
        return {"key": key, "thread": threading.current_thread().name}

    driver.server.queue(Reply(tool_use("lookup", {"key": "x"}, id="toolu_x"),
                              tool_use("lookup", {"key": "y"}, id="toolu_y")), Reply("Done."))

    async def inside_a_kernel_like_loop() -> Any:
        return driver.ask()  # synchronous call from a coroutine, as a cell runs inside ipykernel's loop

    result = asyncio.run(inside_a_kernel_like_loop())
    assert result.status == "complete"
    contents = [json.loads(item["content"]) for item in driver.tool_results(1)]
    assert [item["key"] for item in contents] == ["x", "y"]
    assert {item["thread"] for item in contents} == {"claude-magic-tools-loop"}
    driver.assert_history_valid()


def test_sync_and_async_tools_mix_in_one_batch(driver: Driver) -> None:
    started = threading.Event()

    @driver.toolbox.tool
    def blocking() -> str:
        """Block until the async tool has started."""
        return "unblocked" if started.wait(BARRIER_WAIT) else "never unblocked"

    @driver.toolbox.tool
    async def nonblocking() -> str:
        """Start, and let the blocking tool go."""
        started.set()
        return "started"

    driver.server.queue(Reply(tool_use("blocking", {}, id="toolu_b"), tool_use("nonblocking", {}, id="toolu_n")),
                        Reply("Done."))
    driver.ask()
    assert [item["content"] for item in driver.tool_results(1)] == ["unblocked", "started"]


def test_exceptions_become_error_results_with_the_tool_traceback(driver: Driver) -> None:
    @driver.toolbox.tool
    def parse(value: str) -> int:
        """Parse an integer."""
        return int(value)

    driver.server.queue(Reply(tool_use("parse", {"value": "twelve"}, id="toolu_bad")),
                        Reply(tool_use("parse", {"value": "12"}, id="toolu_good")), Reply("It is 12."))
    result = driver.ask()
    assert result.status == "complete"
    [bad] = driver.tool_results(1)
    assert bad["is_error"] is True
    assert bad["content"].startswith("The tool raised ValueError: invalid literal for int()")
    assert "in parse" in bad["content"] and "return int(value)" in bad["content"]
    assert "claude_magic" not in bad["content"]  # the runner's own frames are left out
    assert driver.tool_results(2) == [{"type": "tool_result", "tool_use_id": "toolu_good", "content": "12"}]
    assert [event.status for event in driver.finished] == ["failed", "done"]
    driver.assert_history_valid()


def test_invalid_arguments_and_unknown_tools_are_error_results(driver: Driver) -> None:
    @driver.toolbox.tool
    def square(x: float) -> float:
        """Square a number."""
        return x * x

    driver.server.queue(Reply(tool_use("square", {"x": "big"}, id="toolu_1"), tool_use("square", {}, id="toolu_2"),
                              tool_use("cube", {"x": 2}, id="toolu_3")), Reply("Sorry."))
    driver.ask()
    first, second, third = driver.tool_results(1)
    assert first["is_error"] and first["content"].startswith("Invalid arguments for square: x: Input should be")
    assert second["is_error"] and "x: Missing required argument" in second["content"]
    assert third["is_error"] and "no tool named 'cube'" in third["content"] and "square" in third["content"]
    driver.assert_history_valid()


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


class Broken:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_non_serializable_returns_fall_back_to_repr(driver: Driver) -> None:
    @driver.toolbox.tool
    def opaque() -> Any:
        """Return an object."""
        return Opaque()

    @driver.toolbox.tool
    def mixed() -> Any:
        """Return a dict holding non-JSON values."""
        return {"set": {1}, "thing": Opaque(), "n": 1.5}

    @driver.toolbox.tool
    def broken() -> Any:
        """Return an object whose repr fails."""
        return Broken()

    @driver.toolbox.tool
    def nothing() -> None:
        """Return None."""

    driver.server.queue(Reply(*(tool_use(name, {}, id=f"toolu_{name}") for name in
                                ("opaque", "mixed", "broken", "nothing"))), Reply("Seen."))
    driver.ask()
    results = result_by_id(driver.tool_results(1))
    assert results["toolu_opaque"]["content"] == "<Opaque thing>"
    assert json.loads(results["toolu_mixed"]["content"]) == {"set": "{1}", "thing": "<Opaque thing>", "n": 1.5}
    assert "repr failed: RuntimeError: no repr for you" in results["toolu_broken"]["content"]
    assert results["toolu_nothing"]["content"] == "null"
    assert not any(item.get("is_error") for item in results.values())
    driver.assert_history_valid()


def test_tool_output_separates_what_claude_gets_from_what_the_user_sees(driver: Driver) -> None:
    @driver.toolbox.tool
    def report() -> ToolOutput:
        """Report."""
        return ToolOutput("short summary", display=("full rich report",))

    driver.server.queue(Reply(tool_use("report", {}, id="toolu_r")), Reply("Ok."))
    driver.ask()
    assert driver.tool_results(1)[0]["content"] == "short summary"
    assert driver.finished[0].display == ("full rich report",)


def test_results_are_truncated_for_claude_but_not_for_the_user(driver: Driver) -> None:
    @driver.toolbox.tool
    def dump() -> str:
        """Dump a lot of text."""
        return "".join(f"line {number}\n" for number in range(10_000))

    driver.server.queue(Reply(tool_use("dump", {}, id="toolu_d")), Reply("Long."))
    driver.ask(tool_result_budget=1_000)
    [result] = driver.tool_results(1)
    full = "".join(f"line {number}\n" for number in range(10_000))
    assert len(result["content"]) < 1_300
    assert result["content"].startswith("line 0\n") and result["content"].endswith("line 9999\n")
    assert f"the result was {len(full):,} characters, over the 1,000-character budget" in result["content"]
    [finished] = driver.finished
    assert finished.output == result["content"]
    assert finished.display[-1].plain == full  # the user gets everything
    driver.assert_history_valid()


@pytest.mark.parametrize("load", ["quiet", "busy"])
def test_timeouts_become_error_results_and_the_loop_goes_on(driver: Driver, load: str,
                                                            request: pytest.FixtureRequest) -> None:
    if load == "busy":
        request.getfixturevalue("busy_machine")
    release = threading.Event()

    @driver.toolbox.tool
    def hangs() -> str:
        """Hang until released."""
        release.wait(60)
        return "late"

    @driver.toolbox.tool
    async def hangs_async() -> str:
        """Hang asynchronously."""
        await asyncio.sleep(60)
        return "late"

    @driver.toolbox.tool(main_thread=True)
    def hangs_on_main_thread() -> str:
        """Hang on the main thread (in pure Python)."""
        while not release.is_set():
            pass
        return "late"

    @driver.toolbox.tool
    def quick() -> str:
        """Answer at once."""
        return "quick"

    driver.server.queue(Reply(*(tool_use(name, {}, id=f"toolu_{name}") for name in
                                ("hangs", "hangs_async", "hangs_on_main_thread", "quick"))),
                        Reply(tool_use("quick", {}, id="toolu_again")), Reply("Some timed out."))
    try:
        result = driver.ask(tool_timeout=0.3)
    finally:
        release.set()
    assert result.status == "complete"
    results = result_by_id(driver.tool_results(1))
    for name in ("hangs", "hangs_async", "hangs_on_main_thread"):
        assert results[f"toolu_{name}"]["is_error"] is True
        assert "timed out after 0.3 s" in results[f"toolu_{name}"]["content"]
    assert results["toolu_quick"]["content"] == "quick"
    assert driver.tool_results(2)[0]["content"] == "quick"
    statuses = {event.tool_use_id: event.status for event in driver.finished}
    assert statuses["toolu_hangs"] == statuses["toolu_hangs_async"] == statuses["toolu_hangs_on_main_thread"] \
        == "timeout"
    driver.assert_history_valid()


@pytest.mark.parametrize("load", ["quiet", "busy"])
def test_a_timed_out_main_thread_tool_blocked_in_c_code_is_interrupted(driver: Driver, load: str,
                                                                       request: pytest.FixtureRequest) -> None:
    if load == "busy":
        request.getfixturevalue("busy_machine")
    @driver.toolbox.tool(main_thread=True)
    def sleeps() -> str:
        """Sleep in C code on the main thread."""
        import time

        time.sleep(60)
        return "late"

    driver.server.queue(Reply(tool_use("sleeps", {}, id="toolu_s")), Reply("Timed out."))
    assert driver.ask(tool_timeout=0.3).status == "complete"
    assert driver.finished[0].status == "timeout"
    driver.assert_history_valid()


@pytest.mark.parametrize("load", ["quiet", "busy"])
def test_a_main_thread_tool_that_swallows_the_interrupt_is_still_ended(driver: Driver, load: str,
                                                                       request: pytest.FixtureRequest) -> None:
    """Tool code may catch KeyboardInterrupt (a retry loop, `except BaseException`): the limit still holds."""
    if load == "busy":
        request.getfixturevalue("busy_machine")
    caught = []

    @driver.toolbox.tool(main_thread=True)
    def stubborn() -> str:
        """Sleep, and sleep again when interrupted."""
        import time

        for _attempt in range(2):
            try:
                time.sleep(20)
            except KeyboardInterrupt:
                caught.append(1)
        time.sleep(20)
        return "late"

    driver.server.queue(Reply(tool_use("stubborn", {}, id="toolu_st")), Reply("Timed out."))
    assert driver.ask(tool_timeout=0.3).status == "complete"
    assert driver.finished[0].status == "timeout"
    assert len(caught) == 2
    driver.assert_history_valid()


def test_the_limit_holds_when_other_code_replaced_the_sigint_handler(driver: Driver) -> None:
    """nbclient leaves asyncio's no-op SIGINT handler behind when a kernel fails to start (its loop's
    add_signal_handler is undone only after a started kernel): the watchdog must not depend on the handler."""
    import signal

    @driver.toolbox.tool(main_thread=True)
    def sleeps() -> str:
        """Sleep in C code on the main thread."""
        import time

        time.sleep(60)
        return "late"

    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    try:
        driver.server.queue(Reply(tool_use("sleeps", {}, id="toolu_s")), Reply("Timed out."))
        assert driver.ask(tool_timeout=0.3).status == "complete"
        assert driver.finished[0].status == "timeout"
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler   # the other handler is back
    finally:
        signal.signal(signal.SIGINT, previous)
    driver.assert_history_valid()


def test_step_limit_ends_a_runaway_loop_with_a_note_and_a_valid_history(driver: Driver) -> None:
    @driver.toolbox.tool
    def again() -> str:
        """Do it again."""
        return "again"

    driver.server.default = lambda _body: Reply(tool_use("again", {}))
    result = driver.ask(max_steps=3)
    assert result.status == "max_steps" and result.steps == 3
    assert "Stopped after 3 steps" in (result.error or "")
    assert any("Stopped after 3 steps" in event.text for event in driver.of_type(Notice))
    assert len(driver.finished) == 3
    driver.server.default = lambda _body: Reply("Fine.")
    driver.assert_history_valid()


def test_thinking_redacted_and_server_tool_blocks_go_back_byte_for_byte(driver: Driver) -> None:
    @driver.toolbox.tool
    def probe() -> str:
        """Probe."""
        return "probed"

    server_call = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}}
    server_result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1",
                     "content": [{"type": "web_search_result", "url": "https://example.org", "title": "Example",
                                  "encrypted_content": "abc", "page_age": None}]}
    driver.server.queue(
        Reply(thinking("First I think about it.\nCarefully."), redacted_thinking("cmVkYWN0ZWQ="),
              block(server_call), block(server_result), tool_use("probe", {}, id="toolu_p1")),
        Reply(thinking("Now the second step."), tool_use("probe", {}, id="toolu_p2")),
        Reply(thinking("Done thinking."), text("All probed.")),
    )
    result = driver.ask(thinking=2048)
    assert result.status == "complete", result.error
    assert driver.server.rejections == []
    requests = driver.server.message_requests
    first_answer = requests[1]["messages"][1]["content"]
    assert first_answer[0]["type"] == "thinking" and first_answer[0]["thinking"] == "First I think about it.\nCarefully."
    assert first_answer[1] == {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="}
    assert first_answer[2] == server_call
    assert first_answer[3]["type"] == "web_search_tool_result"
    # every assistant message is sent again, unchanged, on every later step
    assert requests[2]["messages"][1] == requests[1]["messages"][1]
    assert requests[2]["messages"][3]["content"][0]["signature"]
    driver.assert_history_valid()


def test_tool_definitions_are_byte_identical_across_steps_and_turns(driver: Driver) -> None:
    @driver.toolbox.tool
    def one(x: int) -> int:
        """One."""
        return x

    @driver.toolbox.tool
    def two(y: str = "a") -> str:
        """Two."""
        return y

    driver.server.queue(Reply(tool_use("one", {"x": 1})), Reply("a"), Reply("b"))
    driver.ask()

    @driver.toolbox.tool
    def one(x: int) -> int:  # noqa: F811 - re-running the defining cell replaces the tool in place
        """One."""
        return x + 1

    driver.ask()
    sent = [json.dumps(request["tools"]) for request in driver.server.message_requests]
    assert len(set(sent)) == 1
    assert [tool["name"] for tool in driver.server.message_requests[0]["tools"]] == ["one", "two"]


def test_tools_can_be_narrowed_per_turn_and_disabled_in_config(driver: Driver) -> None:
    for name in ("alpha", "beta", "gamma"):
        driver.toolbox.tool(name=name)(lambda: "x")
    driver.server.queue(Reply("1"), Reply("2"), Reply("3"))
    driver.ask(tools=("gamma", "alpha"))
    driver.ask(tools=())
    driver.toolbox.configure(disabled=["beta"])
    driver.ask()
    first, second, third = driver.server.message_requests
    assert [tool["name"] for tool in first["tools"]] == ["alpha", "gamma"]
    assert "tools" not in second
    assert [tool["name"] for tool in third["tools"]] == ["alpha", "gamma"]


def test_a_disabled_tool_does_not_run_even_if_claude_calls_it(driver: Driver) -> None:
    ran = []
    driver.toolbox.tool(name="secret")(lambda: ran.append(1))
    driver.toolbox.configure(disabled=["secret"])
    driver.server.queue(Reply(tool_use("secret", {}, id="toolu_s")), Reply("Ok."))
    driver.ask()
    assert ran == [] and driver.tool_results(1)[0]["is_error"] is True


def test_stop_during_a_batch_keeps_finished_results_and_answers_the_rest(driver: Driver) -> None:
    cancellation = Cancellation()
    release = threading.Event()

    @driver.toolbox.tool
    def fast() -> str:
        """Fast."""
        return "fast result"

    @driver.toolbox.tool
    def slow() -> str:
        """Slow: the user presses Stop while it runs."""
        cancellation.cancel()
        release.wait(60)
        return "slow result"

    driver.server.queue(Reply(tool_use("fast", {}, id="toolu_f"), tool_use("slow", {}, id="toolu_s")))
    try:
        result = driver.ask(cancellation=cancellation)
    finally:
        release.set()
    assert result.status == "interrupted"
    answers = result_by_id([block for block in driver.messages[-1]["content"] if block["type"] == "tool_result"])
    assert answers["toolu_f"]["content"] == "fast result"
    assert answers["toolu_s"]["is_error"] and "interrupted" in answers["toolu_s"]["content"]
    assert {event.tool_use_id: event.status for event in driver.finished} == {"toolu_f": "done",
                                                                             "toolu_s": "interrupted"}
    driver.assert_history_valid()


def test_ctrl_c_in_a_main_thread_tool_interrupts_the_turn_and_keeps_the_history_valid(driver: Driver) -> None:
    @driver.toolbox.tool
    def first() -> str:
        """Runs on a thread and finishes."""
        return "first result"

    @driver.toolbox.tool(main_thread=True)
    def second() -> str:
        """The user presses Ctrl-C while this runs."""
        raise KeyboardInterrupt

    @driver.toolbox.tool
    def third() -> str:
        """Never starts."""
        return "third result"

    driver.server.queue(Reply(text("Working."), tool_use("first", {}, id="toolu_1"),
                              tool_use("second", {}, id="toolu_2"), tool_use("third", {}, id="toolu_3")))
    result = driver.ask()
    assert result.status == "interrupted"
    answers = [block for block in driver.messages[-1]["content"] if block["type"] == "tool_result"]
    assert [answer["tool_use_id"] for answer in answers] == ["toolu_1", "toolu_2", "toolu_3"]
    assert answers[0]["content"] == "first result"
    assert answers[1]["is_error"] and answers[2]["is_error"]
    assert [event.status for event in driver.finished] == ["done", "interrupted", "interrupted"]
    driver.assert_history_valid()


def test_context_runs_main_thread_tools_through_the_front_ends_runner(driver: Driver) -> None:
    ran_via: list[str] = []

    def run_on_main_thread(function: Any) -> Any:
        ran_via.append("runner")
        return function()

    @driver.toolbox.tool(main_thread=True)
    def on_main() -> str:
        """Needs the main thread."""
        return threading.current_thread().name

    driver.server.queue(Reply(tool_use("on_main", {}, id="toolu_m")), Reply("Ok."))
    context = ToolContext(run_on_main_thread=run_on_main_thread)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(driver.ask(context=context)))  # a chat panel's worker
    worker.start()
    worker.join(60)
    assert outcome and outcome[0].status == "complete"
    assert ran_via == ["runner"]
