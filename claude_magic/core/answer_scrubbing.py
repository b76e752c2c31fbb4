"""Secrets taken out of Claude's answers: streamed fragments, finished blocks, and a finished turn's history.

Text and tool inputs carry no signature: they are scrubbed where they arrive, so the views, the history sent
back, the store, `save` and `export` never see a secret. A thinking block is signed: the API refuses it
changed, and needs it back unchanged while its tool loop runs. So views get its scrubbed text, the
conversation keeps the signed block until the turn ends, and then a thinking block that held a secret is
withheld (the API does not need thinking blocks of finished turns).
"""

from __future__ import annotations

from typing import Any

from .redaction import Scrubber, scrubber

__all__ = ["scrub_block", "shown_block", "withhold_secret_thinking", "finish_turn", "WITHHELD_THINKING"]

WITHHELD_THINKING = "(Claude's thinking here was withheld: it contained a secret.)"


def _scrub_value(value: Any, scrub: Scrubber) -> Any:
    """A tool input with every string in it scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_value(item, scrub) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_value(item, scrub) for item in value]
    return value


def scrub_block(block: dict[str, Any], scrub: Scrubber) -> dict[str, Any]:
    """The block as it may go back to the API: text and tool inputs scrubbed, signed thinking unchanged."""
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        scrubbed = scrub(block["text"])
        return block if scrubbed == block["text"] else {**block, "text": scrubbed}
    if kind in ("tool_use", "server_tool_use") and isinstance(block.get("input"), dict):
        scrubbed_input = _scrub_value(block["input"], scrub)
        return block if scrubbed_input == block["input"] else {**block, "input": scrubbed_input}
    return block


def shown_block(block: dict[str, Any], scrub: Scrubber) -> dict[str, Any]:
    """The block as the views may show it: thinking text scrubbed too."""
    if block.get("type") == "thinking" and isinstance(block.get("thinking"), str):
        scrubbed = scrub(block["thinking"])
        return block if scrubbed == block["thinking"] else {**block, "thinking": scrubbed}
    return scrub_block(block, scrub)


def _holds_secret(block: dict[str, Any], scrub: Scrubber) -> bool:
    """A signed block (thinking, or a compaction summary) that holds a secret: it cannot be scrubbed (its signature
    covers its text), so it is withheld; without the summary the next request sends the full history again."""
    kind = block.get("type")
    said = block.get("thinking") if kind == "thinking" else block.get("content") if kind == "compaction" else None
    return isinstance(said, str) and scrub(said) != said


def withhold_secret_thinking(messages: list[dict[str, Any]], scrub: Scrubber) -> int:
    """Drop, in place, the thinking blocks that hold a secret from finished assistant messages (an assistant
    message left empty gets a one-line note instead); text and tool inputs are scrubbed as well. Returns how many
    thinking blocks were withheld."""
    withheld = 0
    for message in messages:
        content = message.get("content")
        if message.get("role") != "assistant" or not isinstance(content, list):
            continue
        kept = [scrub_block(block, scrub) if isinstance(block, dict) else block for block in content
                if not (isinstance(block, dict) and _holds_secret(block, scrub))]
        withheld += len(content) - len(kept)
        if len(kept) != len(content) or any(new is not old for new, old in zip(kept, content, strict=True)):
            message["content"] = kept or [{"type": "text", "text": WITHHELD_THINKING}]
    return withheld


def finish_turn(conversation: Any, result: Any) -> None:
    """The turn `result` ended: withhold its secret-holding thinking blocks from the conversation and the result
    (before views save the notebook and listeners the store)."""
    scrub = scrubber()
    record = next((record for record in reversed(conversation.turns) if record.id == result.turn_id), None)
    withhold_secret_thinking(conversation.messages[record.start if record is not None else 0:], scrub)
    answer = [{"role": "assistant", "content": list(result.content)}]
    if withhold_secret_thinking(answer, scrub) or answer[0]["content"] != result.content:
        result.content[:] = answer[0]["content"] if result.content else []
