"""The local server's context management, driven through the real SDK's beta client: compaction (signed blocks that
must come back verbatim, the trigger, pause, the summarize request), clearing old tool results (really gone from
what is counted and cached), and the API's refusals of misuse with its error codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from claude_magic.testing import LocalServer, Reply, tool_use
from claude_magic.testing.context_editing import (
    BETA_COMPACT,
    BETA_CONTEXT_MANAGEMENT,
    BETA_SUMMARIZE,
    CLEARED_TOOL_RESULT,
)

MODEL = "claude-sonnet-5-5"
OLD_MODEL = "claude-sonnet-4-5"       # clears tool results, cannot compact
BETAS = [BETA_CONTEXT_MANAGEMENT, BETA_COMPACT]
LONG = "x" * 4000                     # ~1,000 tokens on the local server
COMPACT = {"edits": [{"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 1000}}]}


@pytest.fixture
def client(claude_server: LocalServer) -> Iterator[Any]:
    with anthropic.Anthropic(base_url=claude_server.base_url, api_key="local-test-key", max_retries=0) as sdk:
        yield sdk


def ask(client: Any, messages: list[dict[str, Any]], **params: Any) -> Any:
    params.setdefault("betas", BETAS)
    return client.beta.messages.create(model=params.pop("model", MODEL), max_tokens=200, messages=messages,
                                       cache_control={"type": "ephemeral"}, **params)


def first_turns() -> list[dict[str, Any]]:
    return [{"role": "user", "content": LONG}, {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": "And now?"}]


def test_compaction_at_the_trigger_opens_the_answer_and_comes_back_verbatim(client: Any,
                                                                             claude_server: LocalServer) -> None:
    below = ask(client, first_turns(), context_management={"edits": [
        {"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 50_000}}]})
    assert [block.type for block in below.content] == ["text"]
    answer = ask(client, first_turns(), context_management=COMPACT)
    assert [block.type for block in answer.content] == ["compaction", "text"]
    compaction = answer.content[0]
    assert compaction.signature and compaction.encrypted_content and "2 prompts" in compaction.content
    [iteration, message] = answer.usage.iterations
    assert iteration.type == "compaction" and iteration.input_tokens > 1000    # the closed context, billed apart
    assert answer.usage.input_tokens + answer.usage.cache_creation_input_tokens < 300   # what the model read after
    following = [{"role": "assistant", "content": [block.to_dict() for block in answer.content]},
                 {"role": "user", "content": "Go on."}]
    later = ask(client, following, context_management=COMPACT)
    assert later.usage.cache_read_input_tokens > 0                 # the compacted prefix was cached
    assert [block.type for block in later.content] == ["text"]      # far below the trigger again
    assert claude_server.rejections == []


def test_compaction_blocks_that_do_not_come_back_verbatim_or_first_are_refused(client: Any) -> None:
    block = ask(client, first_turns(), context_management=COMPACT).content[0].to_dict()
    cases = {
        "compaction_content_mismatch": [{"role": "assistant", "content": [dict(block, content="edited")]}],
        "compaction_signature_invalid": [{"role": "assistant", "content": [dict(block, signature="Zm9v")]}],
        "compaction_block_misplaced": [{"role": "user", "content": "Hi"},
                                       {"role": "assistant", "content": [block]}],
        "compaction_block_ambiguous": [{"role": "assistant", "content": [block, block]}],
    }
    for code, start in cases.items():
        with pytest.raises(anthropic.BadRequestError) as refused:
            ask(client, [*start, {"role": "user", "content": "Go on."}])
        assert refused.value.error_code == code
    with pytest.raises(anthropic.BadRequestError, match="require the beta header"):
        ask(client, [{"role": "assistant", "content": [block]}, {"role": "user", "content": "Go on."}], betas=[])
    null = dict(block, content=None)                              # a failed compaction: a no-op anywhere
    assert ask(client, [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [null, {
        "type": "text", "text": "ok"}]}, {"role": "user", "content": "Go on."}]).content


def test_misused_context_management_is_refused_like_the_api(client: Any) -> None:
    with pytest.raises(anthropic.BadRequestError, match="not supported by model"):
        ask(client, first_turns(), model=OLD_MODEL, context_management=COMPACT)
    with pytest.raises(anthropic.BadRequestError, match="requires the beta header"):
        ask(client, first_turns(), context_management=COMPACT, betas=[BETA_CONTEXT_MANAGEMENT])
    with pytest.raises(anthropic.BadRequestError, match="does not match any of the expected tags"):
        ask(client, first_turns(), context_management={"edits": [{"type": "forget_everything"}]})
    with pytest.raises(anthropic.BadRequestError, match="cannot be combined"):
        ask(client, first_turns(), context_management=COMPACT, compaction={"type": "summarize"},
            betas=[*BETAS, BETA_SUMMARIZE])
    with pytest.raises(anthropic.BadRequestError, match="requires thinking"):
        ask(client, first_turns(), context_management={"edits": [{"type": "clear_thinking_20251015"}]})


def test_pause_after_compaction_answers_with_the_block_alone(client: Any, claude_server: LocalServer) -> None:
    claude_server.queue(Reply("kept for the next request"))
    paused = ask(client, first_turns(), context_management={"edits": [dict(COMPACT["edits"][0],
                                                                            pause_after_compaction=True)]})
    assert paused.stop_reason == "compaction" and [block.type for block in paused.content] == ["compaction"]
    assert claude_server.queued == 1


def test_summarize_request_compacts_now(client: Any) -> None:
    answer = ask(client, first_turns() + [{"role": "assistant", "content": "Fine."}], betas=[BETA_SUMMARIZE],
                 compaction={"type": "summarize", "instructions": "keep the numbers"})
    assert answer.stop_reason == "compaction" and answer.content[0].type == "compaction"
    assert "keep the numbers" in answer.content[0].content
    assert answer.usage.input_tokens == 0 and answer.usage.iterations[0].type == "compaction"
    with pytest.raises(anthropic.BadRequestError) as refused:
        ask(client, [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]}], betas=[BETA_SUMMARIZE],
            compaction={"type": "summarize"}, tools=[{"name": "f", "input_schema": {"type": "object"}}])
    assert refused.value.error_code == "compaction_incomplete_turn"


def total(usage: Any) -> int:
    return usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens


def tool_session(rounds: int) -> list[dict[str, Any]]:
    """A conversation of `rounds` tool calls, each returning ~1,000 tokens."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Look at the data."}]
    for number in range(rounds):
        call = tool_use("describe", {"part": number}, id=f"toolu_{number}")
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}]})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                                      "content": f"part {number}: " + LONG}]})
    return messages


def test_clearing_old_tool_results_removes_them_from_what_is_counted_and_cached(client: Any,
                                                                                claude_server: LocalServer) -> None:
    tools = [{"name": "describe", "description": "d", "input_schema": {"type": "object"}}]
    edit = {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": 3000},
            "keep": {"type": "tool_uses", "value": 2}}
    full = ask(client, tool_session(6), tools=tools)
    cleared = ask(client, tool_session(6), tools=tools, context_management={"edits": [edit]})
    [applied] = cleared.context_management.applied_edits
    assert applied.type == "clear_tool_uses_20250919" and applied.cleared_tool_uses == 4
    assert total(full.usage) - total(cleared.usage) == applied.cleared_input_tokens > 3500
    sent = claude_server.message_requests[-1]["messages"]
    assert CLEARED_TOOL_RESULT not in str(sent)                   # the client sent everything; the server cleared
    counted = client.beta.messages.count_tokens(model=MODEL, messages=tool_session(6), tools=tools,
                                                context_management={"edits": [edit]}, betas=BETAS)
    assert counted.context_management.original_input_tokens - counted.input_tokens == applied.cleared_input_tokens
    at_least = dict(edit, clear_at_least={"type": "input_tokens", "value": 100_000})
    assert ask(client, tool_session(6), tools=tools, context_management={
        "edits": [at_least]}).context_management.applied_edits == []
