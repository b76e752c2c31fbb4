"""accumulate.py: the message folded from the plain event stream equals the SDK helper's final message.

Ground truth is the SDK's own `messages.stream()` accumulation, reading the same recorded real streams
(and scripted ones with every block and fragment type) from the local server.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anthropic
import pytest

from claude_magic.core.events import BlockFinished, TextDelta
from claude_magic.testing import LocalServer, Replay, Reply, redacted_thinking, text, thinking, tool_use
from claude_magic.transport.accumulate import MessageAccumulator, ToolInputError
from claude_magic.transport.stream import stream_step

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "anthropic-sdk-python"
STREAMS = sorted([*FIXTURES.glob("streaming/*.txt"), *FIXTURES.glob("fable-fallback/*.sse")])
PARAMS = {"model": "claude-sonnet-5-5", "max_tokens": 1000, "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    claude_server.accept_any_model = True
    return anthropic.Anthropic(base_url=claude_server.base_url, max_retries=0)


def sdk_final(client: anthropic.Anthropic, beta: bool = False) -> dict[str, Any] | None:
    """What the SDK helper assembles (None when it refuses the stream)."""
    messages = client.beta.messages if beta else client.messages
    try:
        with messages.stream(**PARAMS) as stream:
            for _event in stream:
                pass
            return stream.current_message_snapshot.to_dict(exclude_none=True)
    except ValueError:
        return None


def ours(client: anthropic.Anthropic) -> tuple[Any, list[Any]]:
    """Our fold of the same stream, through `stream_step`, with the events it emitted."""
    events: list[Any] = []
    return stream_step(client, PARAMS, 0, events.append), events


def comparable(message: dict[str, Any]) -> dict[str, Any]:
    keep = ("model", "role", "stop_reason", "stop_sequence", "usage", "content")
    return {key: message.get(key) for key in keep}


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")   # a beta block in the non-beta Message type
@pytest.mark.parametrize("stream", STREAMS, ids=[path.name for path in STREAMS])
def test_every_recorded_stream_folds_to_the_sdk_helpers_message(stream: Path, client: anthropic.Anthropic,
                                                                 claude_server: LocalServer) -> None:
    beta = "compaction" in stream.name          # compaction fragments are folded by the SDK's beta helper only
    claude_server.queue(Replay(stream))
    expected = sdk_final(client, beta=beta)
    claude_server.queue(Replay(stream))
    outcome, _events = ours(client)
    if expected is None:                         # the SDK refuses it (a tool input that is not JSON): so do we
        assert isinstance(outcome.error, ToolInputError) and not outcome.complete
        return
    assert outcome.error is None and outcome.complete
    assert comparable(outcome.message.to_dict(exclude_none=True)) == comparable(expected)
    assert outcome.message.id == expected["id"]
    assert outcome.content == [block for block in expected["content"] if block.get("type") != "text" or block["text"]]


def test_every_block_and_fragment_type_folds_like_the_sdk(client: anthropic.Anthropic,
                                                         claude_server: LocalServer) -> None:
    citation = {"type": "char_location", "cited_text": "water", "document_index": 0, "document_title": "Doc",
                "start_char_index": 0, "end_char_index": 5}
    reply = Reply(thinking("Let me think " * 40), redacted_thinking("opaque"),
                  text("Water is wet. " * 30, citations=[citation]),
                  tool_use("lookup", {"query": "wet", "deep": {"list": [1, 2.5, None, "x" * 300]}}, id="toolu_1"),
                  stop_reason="tool_use", chunk=3)
    claude_server.queue(reply)
    expected = sdk_final(client)
    claude_server.queue(reply)
    outcome, events = ours(client)
    assert expected is not None
    assert comparable(outcome.message.to_dict(exclude_none=True)) == comparable(expected)
    finished = [event.block for event in events if isinstance(event, BlockFinished)]
    assert finished == outcome.content
    assert "".join(event.text for event in events if isinstance(event, TextDelta)) == "Water is wet. " * 30


def test_a_cut_off_stream_keeps_the_partial_text_and_drops_unfinished_blocks(client: anthropic.Anthropic,
                                                                            claude_server: LocalServer) -> None:
    from claude_magic.testing import Drop

    claude_server.queue(Reply(text("Half of a long answer. " * 20), tool_use("lookup", {"query": "x" * 200}),
                              chunk=4, fault=Drop(after_events=40)))
    outcome = stream_step(client, PARAMS, 0, lambda _event: None)
    assert not outcome.complete and outcome.stop_reason is None
    assert [block["type"] for block in outcome.content] == ["text"]
    assert outcome.content[0]["text"] and "Half of a long answer." in outcome.content[0]["text"]
    assert outcome.message is not None and outcome.message.content[0].text == outcome.content[0]["text"]


def test_the_answer_is_folded_in_linear_time() -> None:
    """Each fragment is kept once: no string the size of the answer is rebuilt per fragment."""
    accumulator = MessageAccumulator()
    accumulator.open_block(SimpleNamespace(index=0, content_block={"type": "text", "text": ""}))
    for _ in range(50_000):
        accumulator.add_text(0, "text", "abcd")
    assert len(accumulator.blocks[0].pieces) == 50_000          # kept as pieces until the block ends
    assert accumulator.content()[0] == ({"type": "text", "text": "abcd" * 50_000}, False)
    assert len(accumulator.blocks[0].pieces) == 1               # a partial read joins them once
    assert accumulator.close_block(0)["text"] == "abcd" * 50_000
    assert accumulator.blocks[0].pieces == []


def test_fragment_events_are_the_frozen_dataclasses_themselves(client: anthropic.Anthropic,
                                                               claude_server: LocalServer) -> None:
    """`stream.py` builds a fragment event through its slots (the hot path): it must be the same value."""
    import dataclasses

    from claude_magic.core.events import ThinkingDelta

    claude_server.queue(Reply(thinking("Let me think. " * 20), text("The answer. " * 20), chunk=5))
    outcome, events = ours(client)
    assert outcome.complete
    fragments = [event for event in events if type(event) in (TextDelta, ThinkingDelta)]
    assert {type(event) for event in fragments} == {TextDelta, ThinkingDelta}
    for event in fragments:
        rebuilt = type(event)(*(getattr(event, item.name) for item in dataclasses.fields(event)))
        assert event == rebuilt and hash(event) == hash(rebuilt) and repr(event) == repr(rebuilt)
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.index = 9                                         # type: ignore[misc]
    assert "".join(event.thinking for event in fragments if isinstance(event, ThinkingDelta)) == "Let me think. " * 20


def test_a_partial_read_while_fragments_keep_arriving_loses_nothing() -> None:
    """The bound fragment list (`text_sink`) stays the block's list when a partial read joins it."""
    accumulator = MessageAccumulator()
    accumulator.open_block(SimpleNamespace(index=0, content_block={"type": "text", "text": "Start. "}))
    sink = accumulator.text_sink(0, "text")
    sink("one ")
    sink("two ")
    assert accumulator.content()[0][0]["text"] == "Start. one two "
    sink("three")
    assert accumulator.close_block(0)["text"] == "Start. one two three"
