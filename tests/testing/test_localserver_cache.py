"""The prompt-cache simulation and the token estimates, checked through the SDK."""

from __future__ import annotations

import json
import math
from typing import Any

import anthropic
import pytest

from claude_magic.testing import LocalServer, Reply, estimate_tokens, text

MODEL = "claude-opus-4-7"
BIG = "Background material. " * 200
EPHEMERAL = {"type": "ephemeral"}


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)


def usage(client: anthropic.Anthropic, **params: Any) -> anthropic.types.Usage:
    params = {"model": MODEL, "max_tokens": 100, **params}
    with client.messages.stream(**params) as stream:
        return stream.get_final_message().usage


def total(u: anthropic.types.Usage) -> int:
    return u.input_tokens + (u.cache_creation_input_tokens or 0) + (u.cache_read_input_tokens or 0)


SYSTEM = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]


def test_second_request_reads_the_cached_system(client: anthropic.Anthropic) -> None:
    first = usage(client, system=SYSTEM, messages=[{"role": "user", "content": "one"}])
    assert first.cache_read_input_tokens == 0
    assert first.cache_creation_input_tokens > 500
    assert first.cache_creation.ephemeral_5m_input_tokens == first.cache_creation_input_tokens
    second = usage(client, system=SYSTEM, messages=[{"role": "user", "content": "two"}])
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens == first.input_tokens


def test_no_breakpoint_no_cache(client: anthropic.Anthropic) -> None:
    plain = [{"type": "text", "text": BIG}]
    for _ in range(2):
        u = usage(client, system=plain, messages=[{"role": "user", "content": "hi"}])
        assert (u.cache_creation_input_tokens, u.cache_read_input_tokens) == (0, 0)


def test_a_changed_prefix_misses(client: anthropic.Anthropic) -> None:
    usage(client, system=SYSTEM, messages=[{"role": "user", "content": "one"}])
    changed = [dict(SYSTEM[0], text=BIG + "!")]
    u = usage(client, system=changed, messages=[{"role": "user", "content": "one"}])
    assert u.cache_read_input_tokens == 0
    assert u.cache_creation_input_tokens > 0


def test_the_cache_is_per_model(client: anthropic.Anthropic) -> None:
    usage(client, system=SYSTEM, messages=[{"role": "user", "content": "one"}])
    other = usage(client, model="claude-sonnet-5-5", system=SYSTEM, messages=[{"role": "user", "content": "one"}])
    assert other.cache_read_input_tokens == 0


def test_top_level_cache_control_grows_with_the_conversation(client: anthropic.Anthropic) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": BIG}]
    first = usage(client, messages=messages, cache_control=EPHEMERAL)
    assert first.cache_creation_input_tokens == total(first)
    assert first.input_tokens == 0
    messages += [{"role": "assistant", "content": "Noted."}, {"role": "user", "content": "Now summarise it."}]
    second = usage(client, messages=messages, cache_control=EPHEMERAL)
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == total(second) - second.cache_read_input_tokens
    assert second.cache_creation_input_tokens > 0


def test_one_hour_ttl_is_reported_apart(client: anthropic.Anthropic) -> None:
    tools = [
        {
            "name": "lookup",
            "description": BIG,
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    system = [{"type": "text", "text": "Short system prompt. " * 10, "cache_control": EPHEMERAL}]
    u = usage(client, tools=tools, system=system, messages=[{"role": "user", "content": "hi"}])
    assert u.cache_creation.ephemeral_1h_input_tokens > 500
    assert 0 < u.cache_creation.ephemeral_5m_input_tokens < 100
    assert u.cache_creation_input_tokens == (
        u.cache_creation.ephemeral_1h_input_tokens + u.cache_creation.ephemeral_5m_input_tokens
    )
    changed_system = [dict(system[0], text="Another system prompt. " * 10)]
    again = usage(client, tools=tools, system=changed_system, messages=[{"role": "user", "content": "hi"}])
    assert again.cache_read_input_tokens == u.cache_creation.ephemeral_1h_input_tokens  # the tools still hit


def test_usage_adds_up_to_count_tokens(client: anthropic.Anthropic) -> None:
    params: dict[str, Any] = {
        "system": SYSTEM,
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": "What now?"}],
    }
    counted = client.messages.count_tokens(model=MODEL, **params).input_tokens
    for _ in range(2):
        assert total(usage(client, **params)) == counted


def test_count_tokens_is_a_quarter_of_the_canonical_bytes(client: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": "Hello, world"}]
    rendered = json.dumps({"role": "user"}, separators=(",", ":")) + json.dumps(
        {"text": "Hello, world", "type": "text"}, separators=(",", ":")
    )
    expected = math.ceil(len(rendered.encode()) / 4)
    assert client.messages.count_tokens(model=MODEL, messages=messages).input_tokens == expected
    assert estimate_tokens({"messages": messages}) == expected


def test_count_tokens_validates_and_consumes_nothing(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(text("kept")))
    with pytest.raises(anthropic.BadRequestError):
        client.messages.count_tokens(model=MODEL, messages=[])
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="claude-nothing", messages=[{"role": "user", "content": "x"}])
    assert claude_server.queued == 1
    assert claude_server.message_requests == []


def test_min_tokens_and_clear(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    small = [{"type": "text", "text": "tiny", "cache_control": EPHEMERAL}]
    claude_server.cache.min_tokens = 1024
    u = usage(client, system=small, messages=[{"role": "user", "content": "x"}])
    assert u.cache_creation_input_tokens == 0
    claude_server.cache.min_tokens = 0
    usage(client, system=SYSTEM, messages=[{"role": "user", "content": "x"}])
    claude_server.clear()
    assert usage(client, system=SYSTEM, messages=[{"role": "user", "content": "x"}]).cache_read_input_tokens == 0


def test_output_tokens_estimate(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(text("x" * 41)))
    assert usage(client, messages=[{"role": "user", "content": "x"}]).output_tokens == 11
