"""What a conversation read from a file must look like: every message, block and turn checked before it is used.

One check for every file a conversation comes back from (the notebook's store, `%claude load`): a value of
the wrong type would otherwise surface later, as a `TypeError` in the next turn, `history` or `usage`.
Nesting is checked first and without recursion, so a hostile file cannot exhaust the stack.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_conversation", "check_depth", "MAX_DEPTH"]

MAX_DEPTH = 100               # levels of JSON nesting; real conversations stay under 20

_NUMBER = (int, float)
_BLOCK_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "text": {"text": str},
    "thinking": {"thinking": str},
    "redacted_thinking": {"data": str},
    "tool_use": {"id": str, "name": str, "input": dict},
    "server_tool_use": {"id": str, "name": str, "input": dict},
    "tool_result": {"tool_use_id": str},
    "image": {"source": dict},
    "document": {"source": dict},
}
_OPTIONAL = (str, type(None))
_TURN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "prompt": str, "cell_id": _OPTIONAL, "model": str, "start": int, "end": int, "usage": dict,
    "cost": (int, float, type(None)), "stop_reason": _OPTIONAL, "status": str, "started_at": _NUMBER,
    "duration": _NUMBER, "engine": str, "credential": str, "session_id": _OPTIONAL, "resume_at": _OPTIONAL,
    "request_hash": str, "replayed": bool,
}


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """`ValueError` if lists and objects nest more than `limit` levels (checked with a stack, not recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise ValueError(f"nested more than {limit} levels deep")
        stack.extend((child, depth + 1) for child in children)


def check_conversation(data: Any) -> None:
    """`ValueError` naming the first thing that is not a valid `Conversation.to_dict()` form."""
    check_depth(data)
    if not isinstance(data, dict) or data.get("format") != "claude-magic-conversation":
        raise ValueError("not a claude-magic conversation file")
    if not isinstance(data.get("name", ""), str):
        raise ValueError("'name' is not a string")
    messages, turns = data.get("messages"), data.get("turns", [])
    if not isinstance(messages, list):
        raise ValueError("'messages' is not a list of user and assistant messages")
    for index, message in enumerate(messages):
        _check_message(message, f"messages[{index}]")
    if not isinstance(turns, list):
        raise ValueError("'turns' is not a list of turn records")
    for index, turn in enumerate(turns):
        _check_turn(turn, f"turns[{index}]", len(messages))


def _check_message(message: Any, where: str) -> None:
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise ValueError(f"{where} is not a user or assistant message")
    content = message.get("content")
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise ValueError(f"{where}.content is neither text nor a list of blocks")
    for index, block in enumerate(content):
        _check_block(block, f"{where}.content[{index}]")


def _check_block(block: Any, where: str) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise ValueError(f"{where} is not a content block (an object with a 'type')")
    for name, kind in _BLOCK_FIELDS.get(block["type"], {}).items():
        if not isinstance(block.get(name), kind):
            raise ValueError(f"{where}: a {block['type']} block's {name!r} is not a {_kind_name(kind)}")
    if block["type"] == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            for index, inner in enumerate(content):
                _check_block(inner, f"{where}.content[{index}]")
        elif not isinstance(content, str):
            raise ValueError(f"{where}: a tool_result's content is neither text nor a list of blocks")
        if not isinstance(block.get("is_error", False), bool):
            raise ValueError(f"{where}: a tool_result's 'is_error' is not true or false")


def _check_turn(turn: Any, where: str, messages: int) -> None:
    if not isinstance(turn, dict):
        raise ValueError(f"{where} is not a turn record")
    for name, kind in _TURN_FIELDS.items():
        if name in turn and (not isinstance(turn[name], kind) or _is_bool_as_number(turn[name], kind)):
            raise ValueError(f"{where}: {name!r} is not a {_kind_name(kind)}")
    usage = turn.get("usage") or {}
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in usage.values()):
        raise ValueError(f"{where}: 'usage' holds a value that is not a token count")
    if not 0 <= turn.get("start", 0) <= turn.get("end", 0) <= messages:
        raise ValueError(f"{where} points outside its messages")


def _is_bool_as_number(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, bool) and kind is not bool


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "string", int: "integer", float: "number", dict: "object", list: "list", bool: "true or false",
             type(None): "null"}
    return " or ".join(dict.fromkeys(names.get(item, item.__name__) for item in kinds))
