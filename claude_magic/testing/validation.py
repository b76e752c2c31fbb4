"""API-like validation of a Messages request; a refusal carries the API's 400 wording.

Checked: `model`, `max_tokens`, `messages` (roles, strict alternation starting with `user` — `system`
messages, which Claude Code sends, sit outside it and hold text only —, non-empty
content, non-blank text, no trailing whitespace at the end of an assistant prefill), tool use and
result pairing between neighbouring messages, unique `tool_use` ids, thinking signatures, the
`thinking` configuration, `tools` and `system` shapes. Unknown top-level keys pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .structured import check_output_config

__all__ = ["RequestRejected", "validate_request"]

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")

SignatureCheck = Callable[[str, object], bool]


class RequestRejected(Exception):
    """A request the API would refuse; `status` is 400 unless said otherwise."""

    def __init__(self, message: str, status: int = 400, error_type: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_request(body: object, *, signature_ok: SignatureCheck, count_only: bool = False) -> None:
    """Raise `RequestRejected` if the API would refuse `body`; `count_only` for `count_tokens`."""
    if not isinstance(body, dict):
        raise RequestRejected("Request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestRejected("model: Field required")
    if not count_only:
        _check_max_tokens(body)
    _check_thinking(body, count_only)
    _check_system(body.get("system"))
    _check_tools(body.get("tools"))
    _check_messages(body.get("messages"), signature_ok)
    output_problem = check_output_config(body.get("output_config"))
    if output_problem:
        raise RequestRejected(output_problem)


def _check_max_tokens(body: dict[str, Any]) -> None:
    if "max_tokens" not in body:
        raise RequestRejected("max_tokens: Field required")
    if not _is_int(body["max_tokens"]):
        raise RequestRejected("max_tokens: Input should be a valid integer")
    if body["max_tokens"] < 1:
        raise RequestRejected("max_tokens: Input should be greater than or equal to 1")


def _check_thinking(body: dict[str, Any], count_only: bool) -> None:
    config = body.get("thinking")
    if config is None:
        return
    if not isinstance(config, dict) or config.get("type") not in ("enabled", "disabled", "adaptive"):
        raise RequestRejected(
            "thinking: Input tag does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'"
        )
    if config["type"] != "enabled":
        return
    budget = config.get("budget_tokens")
    if budget is None:
        raise RequestRejected("thinking.enabled.budget_tokens: Field required")
    if not _is_int(budget):
        raise RequestRejected("thinking.enabled.budget_tokens: Input should be a valid integer")
    if budget < 1024:
        raise RequestRejected("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if not count_only and budget >= body["max_tokens"]:
        raise RequestRejected(
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at "
            "https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"
        )


def _check_system(system: object) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise RequestRejected("system: Input should be a valid string or list")
    for index, item in enumerate(system):
        if not isinstance(item, dict) or item.get("type") != "text" or not isinstance(item.get("text"), str):
            raise RequestRejected(f"system.{index}: Input should be a text block")
        if not item["text"].strip():
            raise RequestRejected("system: text content blocks must contain non-whitespace text")


def _check_tools(tools: object) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise RequestRejected("tools: Input should be a valid list")
    names: set[str] = set()
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise RequestRejected(f"tools.{index}: Input should be a valid dictionary")
        name = tool.get("name")
        if tool.get("type") not in (None, "custom"):  # server tools and typed client tools
            if isinstance(name, str):
                names.add(name)
            continue
        where = f"tools.{index}.custom"
        if not isinstance(name, str):
            raise RequestRejected(f"{where}.name: Field required")
        if not _TOOL_NAME.match(name):
            raise RequestRejected(f"{where}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise RequestRejected(f"{where}.input_schema: Field required")
        if schema.get("type") != "object":
            raise RequestRejected(f"{where}.input_schema.type: Input should be 'object'")
        if name in names:
            raise RequestRejected("tools: Tool names must be unique.")
        names.add(name)


def _check_messages(messages: object, signature_ok: SignatureCheck) -> None:
    if messages is None:
        raise RequestRejected("messages: Field required")
    if not isinstance(messages, list):
        raise RequestRejected("messages: Input should be a valid list")
    if not messages:
        raise RequestRejected("messages: at least one message is required")
    previous_role: str | None = None
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise RequestRejected(f"messages.{index}: Input should be a valid dictionary")
        role = message.get("role")
        if role == "system":                   # Claude Code's mid-conversation system text: outside the alternation
            _check_system_message(index, message)
            continue
        if role not in ("user", "assistant"):
            raise RequestRejected(f"messages.{index}.role: Input should be 'user', 'assistant' or 'system'")
        if previous_role is None and role != "user":
            raise RequestRejected('messages: first message must use the "user" role')
        if role == previous_role:
            raise RequestRejected(
                f'messages: roles must alternate between "user" and "assistant", but found multiple "{role}" roles in a row'
            )
        previous_role = role
        _check_content(index, message, signature_ok)
    conversation = [message for message in messages if message.get("role") != "system"]
    if not conversation:
        raise RequestRejected("messages: at least one user message is required")
    _check_final_prefill(conversation)
    _check_tool_pairing(conversation)


def _check_system_message(index: int, message: dict[str, Any]) -> None:
    """A `role: "system"` message holds text only (a string or text blocks)."""
    content = message.get("content")
    if isinstance(content, str) and content:
        return
    if isinstance(content, list) and content and all(
            isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)
            for block in content):
        return
    raise RequestRejected(f"messages.{index}.content: a system message holds text only")


def _check_content(index: int, message: dict[str, Any], signature_ok: SignatureCheck) -> None:
    if "content" not in message:
        raise RequestRejected(f"messages.{index}.content: Field required")
    content = message["content"]
    if isinstance(content, str):
        if not content:
            raise RequestRejected(f"messages.{index}: all messages must have non-empty content")
        if not content.strip():
            raise RequestRejected("messages: text content blocks must contain non-whitespace text")
        return
    if not isinstance(content, list):
        raise RequestRejected(f"messages.{index}.content: Input should be a valid string or list")
    if not content:
        raise RequestRejected(f"messages.{index}: all messages must have non-empty content")
    for position, item in enumerate(content):
        _check_block(f"messages.{index}.content.{position}", message["role"], item, signature_ok)


def _check_block(where: str, role: str, item: object, signature_ok: SignatureCheck) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise RequestRejected(f"{where}.type: Field required")
    kind = item["type"]
    if kind == "text":
        if not isinstance(item.get("text"), str):
            raise RequestRejected(f"{where}.text: Field required")
        if not item["text"]:
            raise RequestRejected("messages: text content blocks must be non-empty")
        if not item["text"].strip():
            raise RequestRejected("messages: text content blocks must contain non-whitespace text")
    elif kind in ("tool_use", "thinking", "redacted_thinking") and role != "assistant":
        raise RequestRejected(f"{where}: `{kind}` blocks can only be in `assistant` messages")
    elif kind == "tool_result" and role != "user":
        raise RequestRejected(f"{where}: `tool_result` blocks can only be in `user` messages")
    elif kind == "tool_use":
        if not isinstance(item.get("id"), str) or not isinstance(item.get("name"), str):
            raise RequestRejected(f"{where}.id: Field required")
        if not isinstance(item.get("input"), dict):
            raise RequestRejected(f"{where}.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        if not isinstance(item.get("tool_use_id"), str):
            raise RequestRejected(f"{where}.tool_use_id: Field required")
    elif kind == "thinking":
        if not isinstance(item.get("thinking"), str):
            raise RequestRejected(f"{where}.thinking: Field required")
        if not signature_ok(item["thinking"], item.get("signature")):
            raise RequestRejected(f"{where}: Invalid `signature` in `thinking` block")
    elif kind == "redacted_thinking" and (not isinstance(item.get("data"), str) or not item["data"]):
        raise RequestRejected(f"{where}.data: Field required")


def _check_final_prefill(messages: list[Any]) -> None:
    last = messages[-1]
    if last["role"] != "assistant":
        return
    content = last["content"]
    final_text = content if isinstance(content, str) else None
    if isinstance(content, list) and content[-1].get("type") == "text":
        final_text = content[-1]["text"]
    if final_text is not None and final_text != final_text.rstrip():
        raise RequestRejected("messages: final assistant content cannot end with trailing whitespace")


def _blocks_of(message: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = message["content"]
    if isinstance(content, str):
        return []
    return [(i, b) for i, b in enumerate(content) if b.get("type") == kind]


def _check_tool_pairing(messages: list[Any]) -> None:
    seen: set[str] = set()
    for index, message in enumerate(messages):
        for position, use in _blocks_of(message, "tool_use"):
            if use["id"] in seen:
                raise RequestRejected(f"messages.{index}.content.{position}: `tool_use` ids must be unique")
            seen.add(use["id"])
        if message["role"] == "user":
            previous = messages[index - 1] if index > 0 else None
            offered = {b["id"] for _, b in _blocks_of(previous, "tool_use")} if previous else set()
            for position, result in _blocks_of(message, "tool_result"):
                if result["tool_use_id"] not in offered:
                    raise RequestRejected(
                        f"messages.{index}.content.{position}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{result['tool_use_id']}. Each `tool_result` block must have a corresponding `tool_use` block "
                        "in the previous message."
                    )
            continue
        uses = [b["id"] for _, b in _blocks_of(message, "tool_use")]
        following = messages[index + 1] if index + 1 < len(messages) else None
        answered = {b["tool_use_id"] for _, b in _blocks_of(following, "tool_result")} if following else set()
        missing = [tool_id for tool_id in uses if tool_id not in answered]
        if missing:
            raise RequestRejected(
                f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
                "`tool_result` block in the next message."
            )
