"""A conversation as a readable Markdown transcript (`%claude export`); a money `$` is written `\\$`."""

from __future__ import annotations

import json
from typing import Any

from ..core.conversation import Conversation
from .inert_markdown import inert_markdown

__all__ = ["conversation_markdown"]


def conversation_markdown(conversation: Conversation) -> str:
    """Turn by turn: the prompt, thinking, tool calls with results, and the answer."""
    title = f"# Conversation {conversation.name}" if conversation.name else "# Conversation with Claude"
    sections = [title]
    for number, record in enumerate(conversation.turns, 1):
        cost = f" · ${record.cost:.4f}" if record.cost is not None else ""
        sections.append(f"## Turn {number}\n\n<sub>{record.model} · {record.usage.total_input_tokens:,} in · "
                        f"{record.usage.output_tokens:,} out{cost} · {record.status}</sub>")
        for message in conversation.messages[record.start:record.end]:
            sections += [_block_markdown(message["role"], block) for block in _blocks(message["content"])]
    return inert_markdown("\n\n".join(section for section in sections if section)) + "\n"


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _block_markdown(role: str, block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text":
        return f"**You:** {block['text']}" if role == "user" else block["text"]
    if kind == "thinking":
        return "\n".join(["> *Thinking*", ">", *(f"> {line}" for line in block.get("thinking", "").splitlines())])
    if kind == "redacted_thinking":
        return "> *(redacted thinking)*"
    if kind == "tool_use":
        arguments = json.dumps(block.get("input", {}), indent=2, ensure_ascii=False)
        return f"**Tool call `{block.get('name')}`**\n\n```json\n{arguments}\n```"
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            content = "\n".join(item.get("text", f"[{item.get('type')}]") for item in content)
        label = "Tool error" if block.get("is_error") else "Tool result"
        return f"**{label}:**\n\n```\n{content}\n```"
    if kind in ("image", "document"):
        return f"*[{kind} attached]*"
    return f"*[{kind} block]*"
