"""Compacting a conversation now (`%claude compact`): the API's summarize request, its block kept in the history.

The request is the conversation as a turn would send it (from its last compaction on) with
`compaction={"type": "summarize"}` (beta `compact-2026-09-04`) and without what shapes an answer; the answer is a
signed `compaction` block alone. It joins the conversation's last assistant message, so the next turn sends it
first, in place of everything before it; the messages before it stay in the history, the store and exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.conversation import Conversation
from ..core.errors import ClaudeMagicError
from ..core.pricing import Price, cost_of
from ..core.redaction import scrubber
from ..core.settings import Settings
from ..core.usage import Usage
from ..transport.accumulate import block_to_param
from ..transport.context_management import BETA_COMPACT, BETA_SUMMARIZE, last_compaction, sent_messages
from ..transport.context_window import ModelCatalog
from ..transport.request import build_params
from ..transport.stream import compaction_usage
from .context_notes import model_context

__all__ = ["Compacted", "compact_now"]


@dataclass(frozen=True)
class Compacted:
    """What `%claude compact` did: the summary's size, what it read, its cost."""

    summary_tokens: int
    read_tokens: int
    usage: Usage
    cost: float | None


def compact_now(client: Any, conversation: Conversation, settings: Settings, catalog: ModelCatalog,
                tools: list[dict[str, Any]], instructions: str | None = None,
                prices: dict[str, Price] | None = None) -> Compacted:
    """Ask the API to compact `conversation` now; its block joins the history. One-line errors otherwise."""
    if not conversation.turns:
        raise ClaudeMagicError("The conversation is empty: there is nothing to compact.")
    if conversation.pending_tool_uses():
        raise ClaudeMagicError("The last turn ends with a tool call that has no result: re-run that cell first.")
    params = build_params(sent_messages(conversation.messages), settings, tools)
    support, _window = model_context(client, catalog, params["model"])
    if not support.summarize:
        raise ClaudeMagicError(
            f"{params['model']} does not offer compaction through the API (capabilities.compaction): drop turns "
            "with `%claude pop`, start over with `%claude reset`, or ask for a summary in a `%%claude --new` cell "
            "and continue from it.")
    for name in ("cache_control", "output_config"):        # a compaction request shapes no answer
        params.pop(name, None)
    compaction: dict[str, Any] = {"type": "summarize"}
    if instructions and instructions.strip():
        compaction["instructions"] = instructions
    betas = [BETA_SUMMARIZE] + ([BETA_COMPACT] if last_compaction(params["messages"]) is not None else [])
    message = client.beta.messages.create(**params, compaction=compaction, betas=betas)
    blocks = [block_to_param(block) for block in message.content if block.type == "compaction"]
    if not blocks or not blocks[0].get("content"):
        raise ClaudeMagicError("The API returned no summary: the conversation is unchanged.")
    if scrubber()(blocks[0]["content"]) != blocks[0]["content"]:     # signed: it cannot be scrubbed, so not kept
        raise ClaudeMagicError("The summary held a secret, so it was not kept: the conversation is unchanged.")
    conversation.add_assistant(blocks[:1])
    iterations = [item.to_dict() for item in (getattr(message.usage, "iterations", None) or [])]
    usage = Usage.from_sdk(message.usage) + compaction_usage(iterations)
    return Compacted(summary_tokens=usage.output_tokens, read_tokens=usage.input_tokens, usage=usage,
                     cost=cost_of(usage, params["model"], prices or {}))
