"""Model aliases and default model choice."""

from __future__ import annotations

__all__ = ["ALIASES", "DEFAULT_MODEL", "resolve_model"]

#: Short names users type; each maps to the current model of its family.
ALIASES: dict[str, str] = {
    "opus": "claude-opus-5-5",
    "sonnet": "claude-sonnet-5-5",
    "haiku": "claude-haiku-5-5",
    "opus-5": "claude-opus-5",
    "sonnet-5": "claude-sonnet-5",
    "opus-4.8": "claude-opus-4-8",
    "sonnet-4.6": "claude-sonnet-4-6",
    "haiku-4.5": "claude-haiku-4-5",
}

DEFAULT_MODEL = "claude-sonnet-5-5"


def resolve_model(name: str, extra_aliases: dict[str, str] | None = None) -> str:
    """Return the full model id for an alias; other names pass through unchanged."""
    key = name.strip()
    if extra_aliases and key in extra_aliases:
        return extra_aliases[key]
    return ALIASES.get(key.lower(), key)
