"""The request fingerprint: a sha256 of the canonical JSON of exactly what defines a turn's request.

In: the engine, the resolved model, max_tokens (as sent, after a thinking budget raised it), the system
prompt, thinking, effort, the structured-output format, the tools offered (their full definitions) and
Claude Code's own tools, the conversation before the turn and the prompt's content blocks (text after
interpolation, attachments), credentials redacted as they are before sending.
Out (they change how a request travels, not what it asks): the endpoint, headers, prompt caching,
retries, time limits, the step limit, the credential, how answers are displayed.
"""

from __future__ import annotations

import hashlib
import json
import operator
import threading
from collections.abc import Callable
from typing import Any

from ..core.model_names import resolve_model
from ..core.redaction import redact_content
from ..core.settings import Settings
from ..transport.request import thinking_param

__all__ = ["request_fingerprint", "request_fingerprinter", "request_document", "FINGERPRINT_VERSION"]

FINGERPRINT_VERSION = 1


def request_document(messages: list[dict[str, Any]], prompt: list[dict[str, Any]], settings: Settings,
                     engine: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
    """The request-defining parts as one JSON-ready document (what the fingerprint hashes)."""
    thinking, max_tokens = thinking_param(settings)
    document: dict[str, Any] = {
        "fingerprint": FINGERPRINT_VERSION,
        "engine": engine,
        "model": resolve_model(settings.model, settings.aliases),
        "max_tokens": max_tokens,
        "system": settings.system or None,
        "thinking": thinking,
        "effort": settings.effort,
        "output_format": settings.output_format,
        "tools": tools,
        "claude_code_tools": sorted(settings.claude_code_tools) if engine == "claude-code" else [],
        "messages": messages,
        "prompt": redact_content(prompt),
    }
    if settings.server_tools:           # only when on, so that the fingerprints of earlier turns do not change
        document["server_tools"] = list(settings.server_tools)
    return document


def request_fingerprint(messages: list[dict[str, Any]], prompt: list[dict[str, Any]], settings: Settings,
                        engine: str, tools: list[dict[str, Any]]) -> str:
    """sha256 (hex) of the canonical JSON of `request_document`: equal exactly when the request would be."""
    return request_fingerprinter(prompt, settings, engine, tools)(messages)


def request_fingerprinter(prompt: list[dict[str, Any]], settings: Settings, engine: str,
                          tools: list[dict[str, Any]]) -> Callable[[list[dict[str, Any]]], str]:
    """`request_fingerprint` in two steps: everything but the history now (a setting the API would refuse
    raises here), the history when the returned function is called (it may be long: a turn calls it later)."""
    document = request_document([], prompt, settings, engine, tools)
    head, tail = _canonical(document).split('"messages":[]', 1)
    head += '"messages":['

    def over(messages: list[dict[str, Any]]) -> str:
        hasher = _HISTORY.hasher(head, messages)
        hasher.update(("]" + tail).encode("utf-8", "surrogatepass"))
        return hasher.hexdigest()

    return over


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)


class _HistoryHashes:
    """sha256 states of `head` + the canonical JSON of a history, kept so the next turn hashes only what is new.

    A turn's history is the previous one plus new messages (and perhaps the last one's content replaced): a state is
    reused up to the first message whose content is not the same object (content lists are replaced, never changed
    in place; the kept references stop an id being reused). The bytes hashed are exactly `json.dumps` of the whole
    document, so the fingerprint is the one hashing it at once gives (`tests/store/test_fingerprint.py`).
    """

    SLOTS = 4

    def __init__(self) -> None:
        self._states: dict[str, tuple[list[Any], list[Any]]] = {}     # head -> contents, hashers after each
        self._lock = threading.Lock()

    def hasher(self, head: str, messages: list[dict[str, Any]]) -> Any:
        """A sha256 object fed `head` and `messages` as a JSON list's items (without the closing bracket)."""
        contents_now = [message.get("content") for message in messages]
        with self._lock:
            contents, hashers = self._states.pop(head, ([], []))
            matches = list(map(operator.is_, contents_now, contents))
            same = matches.index(False) if False in matches else len(matches)
            del contents[same:], hashers[same:]
            current = hashers[-1].copy() if hashers else hashlib.sha256(head.encode("utf-8", "surrogatepass"))
            for message in messages[same:]:
                current.update(("," if contents else "").encode() + _canonical(message).encode("utf-8", "surrogatepass"))
                contents.append(message.get("content"))
                hashers.append(current.copy())
            self._states[head] = (contents, hashers)
            while len(self._states) > self.SLOTS:
                self._states.pop(next(iter(self._states)))
            return current.copy()


_HISTORY = _HistoryHashes()
