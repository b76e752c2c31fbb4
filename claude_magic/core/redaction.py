"""Keeping credentials out of every text the extension produces."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["CREDENTIAL_VARIABLES", "redact", "redact_content", "register_secret", "register_secrets"]

# Environment variables whose values are secrets (ANTHROPIC_IDENTITY_TOKEN: a federation JWT given literally).
CREDENTIAL_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_IDENTITY_TOKEN")
CUSTOM_HEADERS_VARIABLE = "ANTHROPIC_CUSTOM_HEADERS"   # "Name: value" lines the SDK adds to every request
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8        # shorter values ("1", "true") would blank out ordinary words
# Anything shaped like an Anthropic key or OAuth token (sk-ant-api03-, -admin01-, -oat01-, -ort01-), whole or cut short.
_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9][A-Za-z0-9_-]{19,}")

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Treat `value` (a header value, an MCP server's token) as a secret for the rest of the process."""
    register_secrets([value])


def register_secrets(values: Iterable[str]) -> None:
    """Treat each of `values` as a secret; "Bearer TOKEN" registers the token alone too."""
    fresh: set[str] = set()
    for value in values:
        if isinstance(value, str):
            fresh.update(part for part in (value, *value.split()) if len(part) >= MIN_SECRET_LENGTH)
    with _registered_lock:
        _registered.update(fresh)


def _custom_header_values() -> Iterator[str]:
    """The values in ANTHROPIC_CUSTOM_HEADERS, split the way the SDK splits them."""
    for line in (os.environ.get(CUSTOM_HEADERS_VARIABLE) or "").split("\n"):
        colon = line.find(":")
        if colon >= 0:
            yield line[colon + 1:].strip()


def _secrets(extra: Iterable[str] = ()) -> list[str]:
    """Every configured secret value (and `extra`), longest first (a secret containing another goes whole)."""
    with _registered_lock:
        values = set(_registered)
    values.update(extra)
    values.update(os.environ.get(variable) or "" for variable in CREDENTIAL_VARIABLES)
    values.update(_custom_header_values())
    return sorted((value for value in values if len(value) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Replace the configured secrets, `extra` ones, and anything shaped like an Anthropic key or token."""
    for secret in _secrets(extra):
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "sk-ant-" in text:
        text = _KEY_SHAPE.sub(REDACTED, text)
    return text


def redact_content(content: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Message content (a string or content blocks) with credentials replaced in every text block."""
    if isinstance(content, str):
        return redact(content)
    return [{**block, "text": redact(block["text"])} if block.get("type") == "text"
            and isinstance(block.get("text"), str) else block for block in content]
