"""Faults as the SDK sees them: dropped connections, error events, stalls, garbled data.

Only `anthropic`'s public exception classes are named: since 2.17 the SDK wraps what its transport raises
(`httpx2` then), so a transport change in a later release must not change these tests."""

from __future__ import annotations

import json
import threading
import time

import anthropic
import pytest

from claude_magic.testing import Drop, LocalServer, Malformed, MidStreamError, Reply, Stall, text

MODEL = "claude-opus-4-7"
HELLO = [{"role": "user", "content": "Hello"}]
LONG = Reply(text("0123456789" * 20), chunk=10)  # message_start, block start, ping, 20 deltas, ...


def with_fault(fault: Drop | MidStreamError | Stall | Malformed) -> Reply:
    return Reply(*LONG.blocks, chunk=10, fault=fault)


def stream_text(client: anthropic.Anthropic, seen: list[str]) -> anthropic.types.Message:
    """Stream a turn, collecting its text in `seen` as it arrives."""
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        seen.extend(stream.text_stream)
        return stream.get_final_message()


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0, timeout=5)


def test_drop_resets_the_connection_mid_stream(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(Drop(after_events=6)))
    seen = []
    with pytest.raises(anthropic.APIConnectionError) as raised, \
            client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        seen.extend(stream.text_stream)
    assert "".join(seen) == "0123456789" * 3  # the three deltas sent before the reset arrived
    assert stream.current_message_snapshot.content[0].text == "0123456789" * 3
    assert not isinstance(raised.value, anthropic.APITimeoutError)


def test_orderly_drop_just_ends_the_stream(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(Drop(after_events=5, reset=False)))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        kinds = [event.type for event in stream]
        message = stream.get_final_message()
    assert "message_stop" not in kinds
    assert message.stop_reason is None
    assert message.content[0].text == "0123456789" * 2


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "create"])
def test_drop_before_the_headers_is_a_connection_error(
    claude_server: LocalServer, client: anthropic.Anthropic, stream: bool
) -> None:
    claude_server.queue(with_fault(Drop(after_events=0)))
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model=MODEL, max_tokens=100, messages=HELLO, stream=stream)


def test_mid_stream_error_event(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(MidStreamError(after_events=5)))
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        stream_text(client, seen)
    assert caught.value.status_code == 200
    assert caught.value.type == "overloaded_error"
    assert caught.value.api_message == "Overloaded"
    assert "".join(seen) == "0123456789" * 2


def test_mid_stream_error_of_another_type(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(MidStreamError(after_events=1, error_type="api_error", message="Internal")))
    with pytest.raises(anthropic.APIStatusError) as caught:
        stream_text(client, [])
    assert caught.value.type == "api_error"


def test_mid_stream_error_on_a_non_streamed_request(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(MidStreamError(after_events=3)))
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)


def test_stall_mid_stream_times_out_the_read(claude_server: LocalServer) -> None:
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k", max_retries=0, timeout=0.3)
    claude_server.queue(with_fault(Stall(after_events=4, seconds=30)))
    with pytest.raises(anthropic.APITimeoutError), client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as s:
        s.get_final_message()


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "create"])
def test_stall_before_the_headers_is_an_api_timeout(claude_server: LocalServer, stream: bool) -> None:
    client = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k", max_retries=0, timeout=0.3)
    claude_server.queue(with_fault(Stall(after_events=0, seconds=30)))
    with pytest.raises(anthropic.APITimeoutError):
        client.messages.create(model=MODEL, max_tokens=100, messages=HELLO, stream=stream)


def test_a_short_stall_then_carries_on(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(Stall(after_events=4, seconds=0.2)))
    started = time.perf_counter()
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        message = stream.get_final_message()
    assert time.perf_counter() - started >= 0.2
    assert message.content[0].text == "0123456789" * 20
    assert message.stop_reason == "end_turn"


def test_stop_cuts_a_stall_short() -> None:
    server = LocalServer().start()
    client = anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0, timeout=30)
    server.queue(with_fault(Stall(after_events=3, seconds=60)))
    outcome: list[BaseException | None] = []
    ready = threading.Event()

    def consume() -> None:
        try:
            with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
                ready.set()
                stream.get_final_message()
            outcome.append(None)
        except anthropic.APIError as error:
            outcome.append(error)

    thread = threading.Thread(target=consume)
    thread.start()
    assert ready.wait(5)
    time.sleep(0.05)
    started = time.perf_counter()
    server.stop()
    stopped = time.perf_counter() - started
    thread.join(5)
    assert stopped < 0.5
    assert not thread.is_alive()
    assert isinstance(outcome[0], anthropic.APIConnectionError)


def test_malformed_data_line(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(Malformed(after_events=4)))
    with pytest.raises(json.JSONDecodeError):
        stream_text(client, [])


def test_malformed_non_streamed_body(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(Malformed(after_events=0)))
    with pytest.raises(ValueError):
        client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)


def test_faults_leave_the_server_usable(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(with_fault(Drop(2)), with_fault(Malformed(2)), with_fault(MidStreamError(2)))
    for _ in range(3):
        with pytest.raises((anthropic.APIConnectionError, ValueError, anthropic.APIStatusError)):
            stream_text(client, [])
    assert client.messages.create(model=MODEL, max_tokens=100, messages=HELLO).content
