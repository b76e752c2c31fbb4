"""Keeping credentials out of every text the extension produces."""

from __future__ import annotations

import os

__all__ = ["CREDENTIAL_VARIABLES", "redact"]

CREDENTIAL_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Replace any configured credential value that occurs in `text`."""
    for variable in CREDENTIAL_VARIABLES:
        secret = os.environ.get(variable)
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, REDACTED)
    return text
