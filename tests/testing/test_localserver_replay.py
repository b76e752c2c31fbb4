"""Recorded SSE streams replayed through the local server and read back by the real SDK."""

from __future__ import annotations

import time
from pathlib import Path

import anthropic
import pytest

from claude_magic.testing import LocalServer, Replay
from claude_magic.testing.replay import assemble_message, split_events

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "anthropic-sdk-python"
RECORDINGS = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".txt", ".sse"))
MODEL = "claude-opus-4-7"
HELLO = [{"role": "user", "content": "Hello"}]


def test_the_fixtures_are_there() -> None:
    assert len(RECORDINGS) >= 10


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_replay_streams(claude_server: LocalServer, client: anthropic.Anthropic, path: Path) -> None:
    claude_server.queue(Replay(path))
    expected = assemble_message(path.read_bytes())
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        kinds = [event.type for event in stream]
        message = stream.get_final_message()
    assert kinds[-1] == "message_stop"  # the unterminated last event was completed
    assert message.id == expected["id"]
    assert [b.type for b in message.content] == [b["type"] for b in expected["content"]]
    assert message.stop_reason == expected["stop_reason"]
    assert message.usage.output_tokens == expected["usage"]["output_tokens"]
    texts = [b.text for b in message.content if b.type == "text"]
    assert texts == [b["text"] for b in expected["content"] if b["type"] == "text"]


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_replay_to_a_non_streamed_request(claude_server: LocalServer, client: anthropic.Anthropic, path: Path) -> None:
    claude_server.queue(Replay(path))
    message = client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
    expected = assemble_message(path.read_bytes())
    assert [b.type for b in message.content] == [b["type"] for b in expected["content"]]
    assert message.stop_reason == expected["stop_reason"]


def test_replay_sends_the_file_unchanged(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    path = FIXTURES / "fable-fallback" / "stream-b-fallback.sse"
    claude_server.queue(Replay(path))
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=100, messages=HELLO, stream=True)
    assert raw.http_response.read().rstrip(b"\n") == path.read_bytes().rstrip(b"\n")


def test_verbatim_replay_keeps_a_missing_terminator(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    path = FIXTURES / "streaming" / "tool_use_response.txt"
    assert not path.read_bytes().endswith(b"\n")
    claude_server.queue(Replay(path, verbatim=True))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        kinds = [event.type for event in stream]
        message = stream.get_final_message()
    assert "message_stop" not in kinds  # the SDK drops an unterminated last event
    assert message.content[1].input == {"location": "Paris"}


def test_paced_replay(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    path = FIXTURES / "streaming" / "basic_response.txt"
    events = len(split_events(Replay(path).data))
    claude_server.queue(Replay(path, delay=0.02))
    started = time.perf_counter()
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        assert stream.get_final_message().content[0].text == "Hello there!"
    assert time.perf_counter() - started >= 0.02 * (events - 1) * 0.9


def test_split_events_keeps_every_byte() -> None:
    for path in RECORDINGS:
        data = path.read_bytes()
        assert b"".join(split_events(data)) == data


def test_replayed_thinking_can_be_sent_back(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Replay(FIXTURES / "fable-fallback" / "stream-a-refusal.sse"))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        message = stream.get_final_message()
    history = [
        *HELLO,
        {"role": "assistant", "content": message.to_param()["content"]},
        {"role": "user", "content": "go on"},
    ]
    client.messages.create(model=MODEL, max_tokens=100, messages=history)
    assert claude_server.rejections == []


def test_missing_file_fails_at_once() -> None:
    with pytest.raises(FileNotFoundError):
        Replay(FIXTURES / "no-such-file.sse")
