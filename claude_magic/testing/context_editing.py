"""Context management as the API applies it: old tool results and thinking cleared, conversations compacted.

Read from the SDK's types (anthropic 2.17, `types/beta/beta_*_edit_param.py`, `beta_compaction_block*.py`,
`compaction_*_error_details.py`, `resources/beta/messages/messages.py`):

* `context_management={"edits": [...]}` on a beta request. `clear_tool_uses_20250919` (beta
  `context-management-2025-06-27`): once `trigger` is reached (`input_tokens`, default 100,000, or `tool_uses`),
  the results of all but the last `keep` tool uses (default 3; `exclude_tools` never) are replaced by a short
  placeholder, their inputs too with `clear_tool_inputs`, unless fewer than `clear_at_least` tokens would go.
  `clear_thinking_20251015` (same beta) drops thinking from all but the last `keep` assistant turns (default 1).
  `compact_20260112` (beta `compact-2026-01-12`): once the input reaches `trigger` (default 150,000 tokens), the
  whole conversation is summarized into a signed `compaction` block that opens the answer; with
  `pause_after_compaction` the answer is that block alone (`stop_reason` `"compaction"`). The response's
  `context_management.applied_edits` lists the clearing edits applied; a compaction shows as its block and as a
  `compaction` entry of `usage.iterations` (not counted in the top-level usage).
* `compaction={"type": "summarize"}` (beta `compact-2026-09-04`): the request compacts now; the answer is the
  block alone. It cannot be combined with `context_management`.
* A later request sends the block back verbatim as the first block of `messages` (an assistant message), in
  place of what it summarizes. Misuse gets the API's `error.details.error_code`: `compaction_block_misplaced`,
  `compaction_block_ambiguous`, `compaction_signature_invalid`, `compaction_content_mismatch`,
  `compaction_nothing_to_summarize`, `compaction_incomplete_turn`.

What the model "sees" (the edited request) is what usage counts and the prompt cache stores; a test's responder
still gets the request as sent. Messages of this server's own wording say so where the SDK gives none.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from .caching import estimate_tokens, tokens_for_chars
from .signing import SECRET
from .validation import RequestRejected

__all__ = ["BETA_CONTEXT_MANAGEMENT", "BETA_COMPACT", "BETA_SUMMARIZE", "CLEARED_TOOL_RESULT", "CompactionSigner",
           "Edited", "apply_context_management", "check_compaction_turn", "check_context_request", "summarize", "request_betas"]

BETA_CONTEXT_MANAGEMENT = "context-management-2025-06-27"
BETA_COMPACT = "compact-2026-01-12"
BETA_SUMMARIZE = "compact-2026-09-04"
EDIT_BETAS = {"clear_tool_uses_20250919": BETA_CONTEXT_MANAGEMENT, "clear_thinking_20251015": BETA_CONTEXT_MANAGEMENT,
              "compact_20260112": BETA_COMPACT}
DEFAULT_CLEAR_TRIGGER = 100_000
DEFAULT_KEEP = 3
DEFAULT_COMPACT_TRIGGER = 150_000
CLEARED_TOOL_RESULT = "[cleared: this old tool result was removed to save context]"
_SUMMARY_PROMPTS = 12          # user prompts quoted in a summary


def request_betas(headers: dict[str, str]) -> set[str]:
    """The `anthropic-beta` flags of a request."""
    return {flag.strip() for flag in headers.get("anthropic-beta", "").split(",") if flag.strip()}


class CompactionSigner:
    """Signs the compaction blocks this server issues and checks the ones that come back; thread-safe."""

    def __init__(self, secret: bytes = SECRET) -> None:
        self.secret = secret
        self._issued: dict[str, str] = {}      # signature -> content it was issued with
        self._lock = threading.Lock()

    def sign(self, content: str, encrypted: str) -> str:
        """The signature of a block with this summary and opaque metadata."""
        digest = hmac.new(self.secret, b"compaction\0" + content.encode() + b"\0" + encrypted.encode(), hashlib.sha256)
        return base64.b64encode(digest.digest()).decode("ascii")

    def issue(self, content: str, messages: int) -> dict[str, Any]:
        """A new signed `compaction` block summarizing `messages` messages."""
        encrypted = base64.b64encode(json.dumps({"v": 1, "messages": messages}).encode()).decode("ascii")
        signature = self.sign(content, encrypted)
        with self._lock:
            self._issued[signature] = content
        return {"type": "compaction", "content": content, "encrypted_content": encrypted, "signature": signature}

    def problem(self, block: dict[str, Any]) -> str | None:
        """The API's error code for a block that did not come back verbatim, or None."""
        signature, content, encrypted = block.get("signature"), block.get("content"), block.get("encrypted_content")
        if not isinstance(signature, str) or not isinstance(encrypted, str) or not isinstance(content, str):
            return "compaction_signature_invalid"
        if hmac.compare_digest(signature, self.sign(content, encrypted)):
            return None
        with self._lock:
            known = signature in self._issued
        return "compaction_content_mismatch" if known else "compaction_signature_invalid"


def _rejected(message: str, code: str | None = None) -> RequestRejected:
    refusal = RequestRejected(message)
    refusal.error_code = code            # type: ignore[attr-defined]  # sent as error.details.error_code
    return refusal


def _blocks(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def _is_compaction(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "compaction"


def check_context_request(body: dict[str, Any], betas: set[str], model_info: dict[str, Any] | None,
                          signer: CompactionSigner) -> None:
    """Raise `RequestRejected` for a request the API refuses over context management or compaction blocks."""
    _check_compaction_blocks(body.get("messages") or [], betas, signer)
    config, compaction = body.get("context_management"), body.get("compaction")
    if compaction is not None:
        _check_summarize(body, betas, model_info)
    if config is None:
        return
    if not betas:
        raise _rejected("context_management: Extra inputs are not permitted")
    if not isinstance(config, dict) or not isinstance(config.get("edits", []), list):
        raise _rejected("context_management.edits: Input should be a valid list")
    supported = ((model_info or {}).get("capabilities") or {}).get("context_management") or {}
    seen: set[str] = set()
    for index, edit in enumerate(config.get("edits", [])):
        where = f"context_management.edits.{index}"
        kind = edit.get("type") if isinstance(edit, dict) else None
        if kind not in EDIT_BETAS:
            raise _rejected(f"{where}: Input tag {kind!r} found using 'type' does not match any of the expected tags: "
                            + ", ".join(repr(name) for name in EDIT_BETAS))
        if kind in seen:
            raise _rejected(f"{where}: the edit {kind!r} appears more than once")
        seen.add(kind)
        if EDIT_BETAS[kind] not in betas:
            raise _rejected(f"{where}: the {kind!r} edit requires the beta header 'anthropic-beta: {EDIT_BETAS[kind]}'")
        if model_info is not None and not (supported.get("supported") and (supported.get(kind) or {}).get("supported")):
            raise _rejected(f"{where}: {kind!r} is not supported by model {body.get('model')!r}")
        _check_edit(where, kind, edit, body)
    if compaction is not None:
        raise _rejected("compaction: cannot be combined with context_management")


def _check_edit(where: str, kind: str, edit: dict[str, Any], body: dict[str, Any]) -> None:
    trigger = edit.get("trigger")
    kinds = ("input_tokens", "tool_uses") if kind == "clear_tool_uses_20250919" else ("input_tokens",)
    if trigger is not None and kind != "clear_thinking_20251015":
        if not isinstance(trigger, dict) or trigger.get("type") not in kinds:
            raise _rejected(f"{where}.trigger.type: Input should be " + " or ".join(repr(name) for name in kinds))
        if not _positive(trigger.get("value")):
            raise _rejected(f"{where}.trigger.value: Input should be greater than or equal to 1")
    if kind == "clear_tool_uses_20250919":
        keep = edit.get("keep")
        if keep is not None and (not isinstance(keep, dict) or keep.get("type") != "tool_uses"
                                 or not _count(keep.get("value"))):
            raise _rejected(f"{where}.keep: Input should be {{'type': 'tool_uses', 'value': N}} with N >= 0")
        least = edit.get("clear_at_least")
        if least is not None and (not isinstance(least, dict) or least.get("type") != "input_tokens"
                                  or not _count(least.get("value"))):
            raise _rejected(f"{where}.clear_at_least: Input should be {{'type': 'input_tokens', 'value': N}}")
    if kind == "clear_thinking_20251015":
        thinking = body.get("thinking") or {}
        if thinking.get("type") not in ("enabled", "adaptive"):
            raise _rejected(f"{where}: 'clear_thinking_20251015' requires thinking to be enabled")
    if kind == "compact_20260112" and edit.get("instructions") is not None \
            and not isinstance(edit.get("instructions"), str):
        raise _rejected(f"{where}.instructions: Input should be a valid string")


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_summarize(body: dict[str, Any], betas: set[str], model_info: dict[str, Any] | None) -> None:
    compaction = body["compaction"]
    if BETA_SUMMARIZE not in betas:
        raise _rejected(f"compaction: requires the beta header 'anthropic-beta: {BETA_SUMMARIZE}'")
    if not isinstance(compaction, dict) or compaction.get("type") != "summarize":
        raise _rejected("compaction.type: Input should be 'summarize'")
    supported = (((model_info or {}).get("capabilities") or {}).get("compaction") or {})
    if model_info is not None and not (supported.get("supported") and (supported.get("summarize") or {}).get("supported")):
        raise _rejected(f"compaction: not supported by model {body.get('model')!r}")
    conversation = [message for message in body.get("messages") or [] if message.get("role") != "system"]
    if not any(block for message in conversation for block in _blocks(message) if not _is_compaction(block)) \
            and not any(isinstance(message.get("content"), str) for message in conversation):
        raise _rejected("compaction: messages hold nothing to summarize", "compaction_nothing_to_summarize")


def check_compaction_turn(body: Any) -> None:
    """A `compaction` request must not end on an unfinished assistant turn (checked before the usual pairing)."""
    if not isinstance(body, dict) or body.get("compaction") is None or not isinstance(body.get("messages"), list):
        return
    conversation = [m for m in body["messages"] if isinstance(m, dict) and m.get("role") != "system"]
    last = conversation[-1] if conversation else {}
    if last.get("role") == "assistant" and any(isinstance(block, dict) and block.get("type") == "tool_use"
                                               for block in _blocks(last)):
        raise _rejected("compaction: the conversation ends on an assistant turn that is not finished",
                        "compaction_incomplete_turn")


def _check_compaction_blocks(messages: list[Any], betas: set[str], signer: CompactionSigner) -> None:
    places = [(index, position, block) for index, message in enumerate(messages) if isinstance(message, dict)
              for position, block in enumerate(_blocks(message)) if _is_compaction(block)]
    if not places:
        return
    if not betas & {BETA_COMPACT, BETA_SUMMARIZE}:
        index, position, _block = places[0]
        raise _rejected(f"messages.{index}.content.{position}: 'compaction' blocks require the beta header "
                        f"'anthropic-beta: {BETA_COMPACT}'")
    live = [place for place in places if place[2].get("content") is not None]
    if len(live) > 1:
        raise _rejected("messages: more than one `compaction` block with content: send only the block the "
                        "conversation returned last", "compaction_block_ambiguous")
    first = next(index for index, message in enumerate(messages) if message.get("role") != "system")
    for index, position, block in live:
        if (index, position) != (first, 0) or messages[index].get("role") != "assistant":
            raise _rejected(f"messages.{index}.content.{position}: the `compaction` block must be the first block of "
                            "the conversation", "compaction_block_misplaced")
        if block.get("content") == "":
            raise _rejected(f"messages.{index}.content.{position}.content: empty content is not allowed")
        code = signer.problem(block)
        if code == "compaction_content_mismatch":
            raise _rejected(f"messages.{index}.content.{position}: the `compaction` block's content differs from the "
                            "text its signature recorded: send it back verbatim", code)
        if code is not None:
            raise _rejected(f"messages.{index}.content.{position}: invalid `signature` in `compaction` block", code)


@dataclass
class Edited:
    """A request as the model sees it after context management: what usage counts and the cache stores."""

    body: dict[str, Any]
    applied: list[dict[str, Any]] = field(default_factory=list)       # `context_management.applied_edits`
    compaction: dict[str, Any] | None = None                          # the block issued by this request
    compaction_usage: dict[str, Any] | None = None                    # its `usage.iterations` entry
    pause: bool = False                                               # answer with the block alone
    original_tokens: int = 0


def apply_context_management(body: dict[str, Any], signer: CompactionSigner, *, compact: bool = True) -> Edited:
    """The edited request: null compaction blocks dropped, clearing edits applied, compacted at its trigger."""
    original = estimate_tokens(body)
    messages = [_without_null_compactions(message) for message in body.get("messages") or []]
    edited = Edited({**body, "messages": messages}, original_tokens=original)
    edits = ((body.get("context_management") or {}).get("edits")) or []
    by_kind = {edit["type"]: edit for edit in edits}
    if not by_kind or original < min(_threshold(edit) for edit in by_kind.values()):
        return edited                          # below every trigger: nothing to edit (and nothing copied)
    edited.body["messages"] = messages = copy.deepcopy(messages)
    for kind in ("clear_thinking_20251015", "clear_tool_uses_20250919"):
        if kind in by_kind:
            applied = (_clear_thinking if kind == "clear_thinking_20251015" else _clear_tool_uses)(
                edited.body, by_kind[kind])
            if applied is not None:
                edited.applied.append(applied)
    edit = by_kind.get("compact_20260112")
    if compact and edit is not None:
        trigger = (edit.get("trigger") or {}).get("value", DEFAULT_COMPACT_TRIGGER)
        tokens = estimate_tokens(edited.body)
        if tokens >= trigger:
            block, usage = summarize(edited.body, signer, edit.get("instructions"))
            edited.compaction, edited.compaction_usage = block, usage
            edited.body["messages"] = [{"role": "assistant", "content": [block]}]
            edited.pause = bool(edit.get("pause_after_compaction"))
    return edited


def _threshold(edit: dict[str, Any]) -> int:
    """The input tokens below which an edit cannot apply (0: it may, whatever the size)."""
    trigger = edit.get("trigger")
    if edit["type"] == "clear_thinking_20251015" or (isinstance(trigger, dict) and trigger.get("type") != "input_tokens"):
        return 0
    default = DEFAULT_COMPACT_TRIGGER if edit["type"] == "compact_20260112" else DEFAULT_CLEAR_TRIGGER
    return int(trigger.get("value", default)) if isinstance(trigger, dict) else default


def _without_null_compactions(message: Any) -> Any:
    """A message without `compaction` blocks whose content is null (failed compactions: no-ops)."""
    blocks = _blocks(message) if isinstance(message, dict) else []
    if not any(_is_compaction(block) and block.get("content") is None for block in blocks):
        return message
    return {**message, "content": [block for block in blocks
                                   if not (_is_compaction(block) and block.get("content") is None)]}


def _tool_uses(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [block for message in messages if message.get("role") == "assistant" for block in _blocks(message)
            if isinstance(block, dict) and block.get("type") == "tool_use"]


def _clear_tool_uses(body: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any] | None:
    messages = body["messages"]
    trigger = edit.get("trigger") or {"type": "input_tokens", "value": DEFAULT_CLEAR_TRIGGER}
    uses = _tool_uses(messages)
    reached = len(uses) >= trigger["value"] if trigger["type"] == "tool_uses" else \
        estimate_tokens(body) >= trigger["value"]
    if not reached:
        return None
    keep = (edit.get("keep") or {}).get("value", DEFAULT_KEEP)
    excluded = set(edit.get("exclude_tools") or ())
    eligible = [use for use in uses if use.get("name") not in excluded]
    clear = eligible[:max(0, len(eligible) - keep)]
    inputs = edit.get("clear_tool_inputs")
    ids = {use["id"]: use for use in clear}
    before, saved = estimate_tokens(body), copy.deepcopy(messages)
    count = 0
    for message in messages:
        for block in _blocks(message):
            if isinstance(block, dict) and block.get("type") == "tool_result" and block.get("tool_use_id") in ids \
                    and block.get("content") != CLEARED_TOOL_RESULT:
                block["content"] = CLEARED_TOOL_RESULT
                block.pop("is_error", None)
                count += 1
    for use in clear:
        if (inputs is True or (isinstance(inputs, list) and use.get("name") in inputs)) and use.get("input"):
            use["input"] = {}
    cleared = before - estimate_tokens(body)
    least = (edit.get("clear_at_least") or {}).get("value", 0)
    if count == 0 or cleared < least:
        body["messages"][:] = saved
        return None
    return {"type": "clear_tool_uses_20250919", "cleared_tool_uses": count, "cleared_input_tokens": cleared}


def _clear_thinking(body: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any] | None:
    keep = edit.get("keep", {"type": "thinking_turns", "value": 1})
    if keep == "all" or (isinstance(keep, dict) and keep.get("type") == "all"):
        return None
    turns = [message for message in body["messages"] if message.get("role") == "assistant"
             and any(isinstance(b, dict) and b.get("type") in ("thinking", "redacted_thinking") for b in _blocks(message))]
    older = turns[:max(0, len(turns) - int(keep.get("value", 1)))]
    if not older:
        return None
    before = estimate_tokens(body)
    for message in older:
        message["content"] = [b for b in _blocks(message) if b.get("type") not in ("thinking", "redacted_thinking")] \
            or [{"type": "text", "text": "(thinking cleared)"}]
    return {"type": "clear_thinking_20251015", "cleared_thinking_turns": len(older),
            "cleared_input_tokens": before - estimate_tokens(body)}


def _said(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return " ".join(block.get("text", "") for block in _blocks(message)
                    if isinstance(block, dict) and block.get("type") == "text")


def summarize(body: dict[str, Any], signer: CompactionSigner, instructions: str | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A signed compaction block for the conversation of `body`, and its `usage.iterations` entry.

    The summary is deterministic: how much it covers, the earlier summary it extends, the user's latest prompts."""
    messages = [message for message in body.get("messages") or [] if message.get("role") != "system"]
    earlier = next((block.get("content") for block in _blocks(messages[0]) if _is_compaction(block)), None) \
        if messages else None
    prompts = [" ".join(_said(message).split())[:160] for message in messages
               if message.get("role") == "user" and _said(message).strip()]
    calls = len(_tool_uses(messages))
    lines = [f"Summary of {len(messages)} messages ({len(prompts)} prompts, {calls} tool calls) of the conversation"
             + (", continuing an earlier summary." if earlier else ".")]
    if instructions and instructions.strip():
        lines.append(f"Summarized as asked: {' '.join(instructions.split())[:200]}")
    lines += [f"- The user asked: {prompt}" for prompt in prompts[-_SUMMARY_PROMPTS:]]
    content = "\n".join(lines)
    block = signer.issue(content, len(messages))
    usage = {"type": "compaction", "input_tokens": estimate_tokens(body), "output_tokens": tokens_for_chars(len(content)),
             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    return block, usage
