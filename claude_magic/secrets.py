"""Keeping credentials out of every text the extension produces."""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["CREDENTIAL_VARIABLES", "redact", "redact_content"]

CREDENTIAL_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
REDACTED = "[redacted]"
# Anything shaped like an Anthropic key (API or admin, whole or cut short), configured here or not.
_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9][A-Za-z0-9_-]{19,}")


def redact(text: str) -> str:
    """Replace the configured credential values, and anything shaped like an Anthropic key, in `text`."""
    for variable in CREDENTIAL_VARIABLES:
        secret = os.environ.get(variable)
        if secret and len(secret) >= 8 and secret in text:
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
