"""The local server's answer when nothing is queued: a short Markdown echo of the last user turn."""

from __future__ import annotations

from typing import Any

from .script import Reply, TextBlock, ThinkingBlock
from .structured import structured_reply

__all__ = ["echo_reply", "last_user_text"]

_PREVIEW = 200


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message, or a description of what it held instead."""
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        blocks = [b for b in content or [] if isinstance(b, dict)]
        texts = [b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str)]
        said = [text for text in texts if not text.lstrip().startswith("<system-reminder>")]  # Claude Code's context
        texts = said or texts
        if texts:
            return "\n".join(texts)
        kinds = sorted({str(b.get("type")) for b in blocks})
        return f"({len(blocks)} block(s): {', '.join(kinds)})"
    return ""


def _preview(said: str) -> str:
    flat = " ".join(said.split())
    return flat if len(flat) <= _PREVIEW else flat[: _PREVIEW - 1].rstrip() + "…"


def _facts(body: dict[str, Any]) -> str:
    count = len(body.get("messages") or [])
    facts = [f"model `{body.get('model')}`", f"{count} message{'s' if count != 1 else ''} in the conversation"]
    tools = body.get("tools") or []
    if tools:
        facts.append(f"{len(tools)} tool{'s' if len(tools) != 1 else ''} offered")
    return ", ".join(facts)


def echo_reply(body: dict[str, Any]) -> Reply:
    """A pleasant offline answer; adds a thinking block when the request enables thinking."""
    said = last_user_text(body)
    structured = structured_reply(body, said)
    if structured is not None:
        return structured
    answer = (
        f"**Local test server** — you said: “{_preview(said)}”\n\n"
        f"No model was called: this answer comes from `claude_magic.testing` ({_facts(body)}). "
        "Set `ANTHROPIC_API_KEY` and unset `ANTHROPIC_BASE_URL` to talk to Claude."
    )
    max_chars = max(1, int(body.get("max_tokens") or 1) * 4)
    stop_reason = "end_turn"
    if len(answer) > max_chars:
        answer, stop_reason = answer[:max_chars], "max_tokens"
    blocks: list[TextBlock | ThinkingBlock] = [TextBlock(answer)]
    config = body.get("thinking")
    if isinstance(config, dict) and config.get("type") in ("enabled", "adaptive"):
        words = len(said.split())
        thought = f"The user wrote {words} word{'s' if words != 1 else ''}. I am the local test server, so I echo them."
        blocks.insert(0, ThinkingBlock("" if config.get("display") == "omitted" else thought))
    return Reply(*blocks, stop_reason=stop_reason)
