"""Every reply kind through the real SDK, streamed and not: content, stop reasons, usage, events."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import anthropic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_magic.testing import (
    LocalServer,
    Reply,
    block,
    redacted_thinking,
    sign_thinking,
    text,
    thinking,
    tool_use,
)

MODEL = "claude-sonnet-5-5"
HELLO = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)


def ask(client: anthropic.Anthropic, stream: bool, **params: Any) -> anthropic.types.Message:
    """One turn, through `messages.stream` + `get_final_message()` or through `messages.create`."""
    params = {"model": MODEL, "max_tokens": 2000, "messages": HELLO, **params}
    if stream:
        with client.messages.stream(**params) as events:
            for _event in events:
                continue
            return events.get_final_message()
    return client.messages.create(**params)


both = pytest.mark.parametrize("stream", [True, False], ids=["stream", "create"])


@both
def test_text_reply(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    claude_server.queue(Reply(text("Hello, **world**!")))
    message = ask(client, stream)
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "Hello, **world**!"
    assert message.stop_reason == "end_turn"
    assert message.id.startswith("msg_local_")
    assert message.model == MODEL
    assert message.usage.output_tokens == math.ceil(len("Hello, **world**!") / 4)
    assert message.usage.input_tokens > 0


@both
def test_a_bare_string_is_a_text_block(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    claude_server.queue("plain", Reply("also plain"))
    assert ask(client, stream).content[0].text == "plain"
    assert ask(client, stream).content[0].text == "also plain"


@both
def test_thinking_gets_the_server_signature(
    claude_server: LocalServer, client: anthropic.Anthropic, stream: bool
) -> None:
    claude_server.queue(Reply(thinking("Let me think about this."), text("Done.")))
    message = ask(client, stream)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "Let me think about this."
    assert message.content[0].signature == sign_thinking("Let me think about this.")
    assert message.usage.output_tokens_details.thinking_tokens == math.ceil(len("Let me think about this.") / 4)


@both
def test_thinking_with_a_given_signature(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    claude_server.queue(Reply(thinking("hmm", signature="c2lnbmF0dXJl"), text("ok")))
    assert ask(client, stream).content[0].signature == "c2lnbmF0dXJl"


@both
def test_redacted_thinking(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    claude_server.queue(Reply(redacted_thinking("RW5jcnlwdGVk"), text("Answer.")))
    message = ask(client, stream)
    assert message.content[0].type == "redacted_thinking"
    assert message.content[0].data == "RW5jcnlwdGVk"


@both
def test_tool_use(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    call = tool_use("get_weather", {"city": "Paris", "days": [1, 2, 3], "units": {"temp": "°C"}})
    claude_server.queue(Reply(text("Checking."), call))
    message = ask(client, stream)
    assert message.stop_reason == "tool_use"
    assert message.content[1].type == "tool_use"
    assert message.content[1].id == call.id
    assert call.id.startswith("toolu_local_")
    assert message.content[1].name == "get_weather"
    assert message.content[1].input == {"city": "Paris", "days": [1, 2, 3], "units": {"temp": "°C"}}


def test_tool_use_ids_are_unique_and_can_be_chosen() -> None:
    ids = {tool_use("f", {}).id for _ in range(200)}
    assert len(ids) == 200
    assert tool_use("f", {}, id="toolu_mine").id == "toolu_mine"


@both
def test_raw_blocks(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    search = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "eclipse"}}
    results = {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [
            {"type": "web_search_result", "title": "Eclipses", "url": "https://example.com", "encrypted_content": "x"}
        ],
    }
    fallback = {"type": "fallback", "from": {"model": "a"}, "to": {"model": "b"}}
    claude_server.queue(Reply(block(search), block(results), block(fallback), text("Found it.")))
    message = ask(client, stream)
    assert [b.type for b in message.content] == ["server_tool_use", "web_search_tool_result", "fallback", "text"]
    assert message.content[0].input == {"query": "eclipse"}
    assert message.content[1].content[0].title == "Eclipses"


def test_block_needs_a_type() -> None:
    with pytest.raises(ValueError):
        block({"text": "no type"})


@both
def test_citations(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    citation = {
        "type": "char_location",
        "cited_text": "The sky is blue.",
        "document_index": 0,
        "document_title": "Facts",
        "start_char_index": 0,
        "end_char_index": 16,
    }
    claude_server.queue(Reply(text("The sky is blue.", citations=[citation])))
    message = ask(client, stream)
    assert message.content[0].citations[0].cited_text == "The sky is blue."


@both
def test_reply_options(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    claude_server.queue(
        Reply(
            text("cut"),
            stop_reason="stop_sequence",
            stop_sequence="END",
            model="claude-opus-4-7",
            usage={"input_tokens": 1234, "server_tool_use": {"web_search_requests": 2}},
        )
    )
    message = ask(client, stream)
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == "END"
    assert message.model == "claude-opus-4-7"
    assert message.usage.input_tokens == 1234
    assert message.usage.server_tool_use.web_search_requests == 2


@both
def test_refusal_with_stop_details(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "Refused."}
    claude_server.queue(Reply(stop_reason="refusal", stop_details=details))
    message = ask(client, stream)
    assert message.content == []
    assert message.stop_reason == "refusal"
    assert message.stop_details.category == "cyber"


@both
def test_default_echo(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    message = ask(client, stream, messages=[{"role": "user", "content": "What is 2 + 2?"}])
    assert "**Local test server**" in message.content[0].text
    assert "What is 2 + 2?" in message.content[0].text
    assert message.stop_reason == "end_turn"


@both
def test_default_echo_thinks_when_asked(claude_server: LocalServer, client: anthropic.Anthropic, stream: bool) -> None:
    message = ask(client, stream, thinking={"type": "adaptive"})
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].signature == sign_thinking(message.content[0].thinking)
    enabled = ask(client, stream, thinking={"type": "enabled", "budget_tokens": 1024})
    assert enabled.content[0].type == "thinking"


def test_default_echo_respects_max_tokens(client: anthropic.Anthropic) -> None:
    message = ask(client, True, max_tokens=5)
    assert message.stop_reason == "max_tokens"
    assert len(message.content[0].text) == 20


def test_default_can_be_replaced(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.default = lambda body: Reply(text(f"{len(body['messages'])} message(s)"))
    assert ask(client, True).content[0].text == "1 message(s)"


def test_callable_items_see_the_request(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    seen: list[dict[str, Any]] = []

    def respond(body: dict[str, Any]) -> Reply:
        seen.append(body)
        return Reply(text(body["messages"][-1]["content"].upper()))

    claude_server.queue(respond)
    assert ask(client, True).content[0].text == "HELLO THERE"
    assert seen[0]["model"] == MODEL


def test_stream_event_sequence(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(thinking("abc"), text("x" * 100), tool_use("f", {"a": 1}), chunk=40))
    stream = client.messages.create(model=MODEL, max_tokens=2000, messages=HELLO, stream=True)
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    start = events[0].message
    assert start.usage.output_tokens == 1
    assert start.usage.cache_read_input_tokens == 0
    deltas = [e.delta.type for e in events if e.type == "content_block_delta"]
    assert deltas == ["thinking_delta", "signature_delta"] + ["text_delta"] * 3 + ["input_json_delta"] * 2
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 3
    final = events[-2]
    assert final.delta.stop_reason == "tool_use"
    assert final.usage.output_tokens > 1
    assert final.usage.input_tokens == start.usage.input_tokens


def test_ping_is_sent(claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("hi")))
    http = anthropic.Anthropic(base_url=claude_server.base_url, api_key="k", max_retries=0)
    raw = http.messages.with_raw_response.create(model=MODEL, max_tokens=10, messages=HELLO, stream=True)
    body = raw.http_response.read().decode()
    assert "event: ping\n" in body
    assert raw.http_response.headers["content-type"].startswith("text/event-stream")
    assert raw.http_response.headers["request-id"].startswith("req_local_")


def test_long_text_streams_in_many_deltas(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    long = "word " * 2000
    claude_server.queue(Reply(text(long)))
    with client.messages.stream(model=MODEL, max_tokens=2000, messages=HELLO) as stream:
        pieces = list(stream.text_stream)
    assert "".join(pieces) == long
    assert len(pieces) == math.ceil(len(long) / 40)


def test_delay_paces_events(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(text("abcdefgh"), chunk=2, delay=0.02))  # 9 events, 8 gaps
    started = time.perf_counter()
    assert ask(client, True).content[0].text == "abcdefgh"
    assert time.perf_counter() - started >= 0.15


def test_server_event_delay_is_the_default(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.event_delay = 0.02
    claude_server.queue(Reply(text("abcd"), chunk=1))
    started = time.perf_counter()
    ask(client, True)
    assert time.perf_counter() - started >= 0.15


def test_async_client(claude_server: LocalServer) -> None:
    claude_server.queue(Reply(thinking("t"), text("async hello")))

    async def main() -> str:
        client = anthropic.AsyncAnthropic(base_url=claude_server.base_url, api_key="k", max_retries=0)
        async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
            text_seen = "".join([piece async for piece in stream.text_stream])
            message = await stream.get_final_message()
        await client.close()
        assert message.content[1].text == text_seen
        return text_seen

    assert asyncio.run(main()) == "async hello"


def test_reply_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError):
        Reply({"type": "text", "text": "use block() for raw dicts"})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Reply(text("x"), chunk=0)


def test_text_round_trips_exactly() -> None:
    """Any text, cut at any chunk size, arrives unchanged through the SDK's stream accumulator."""
    with LocalServer() as server:
        client = anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0)

        @settings(max_examples=40, deadline=None)
        @given(value=st.text(min_size=1, max_size=300), chunk=st.integers(min_value=1, max_value=50))
        def check(value: str, chunk: int) -> None:
            server.queue(Reply(text(value), chunk=chunk))
            assert ask(client, True).content[0].text == value

        check()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def test_tool_input_round_trips_exactly() -> None:
    """Any JSON tool input survives being cut into `input_json_delta` fragments."""
    with LocalServer() as server:
        client = anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0)

        @settings(max_examples=40, deadline=None)
        @given(value=st.dictionaries(st.text(max_size=10), json_values, max_size=5), chunk=st.integers(1, 30))
        def check(value: dict[str, Any], chunk: int) -> None:
            server.queue(Reply(tool_use("f", value), chunk=chunk))
            assert ask(client, True).content[0].input == value

        check()
