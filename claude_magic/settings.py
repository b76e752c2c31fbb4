"""Plain settings for the core (the magic turns traitlets config into one of these)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from .models import DEFAULT_MODEL

__all__ = ["Settings", "TurnOptions"]


@dataclass(frozen=True)
class Settings:
    """Session-wide defaults. Credentials are read from the environment, never stored here."""

    model: str = field(default_factory=lambda: os.environ.get("ANTHROPIC_MODEL") or DEFAULT_MODEL)
    base_url: str | None = None                # None: ANTHROPIC_BASE_URL or the SDK's default
    max_tokens: int = 8192
    system: str | None = None
    thinking: str | int | None = None          # None, "adaptive" or a budget in tokens
    effort: str | None = None
    thinking_display: str = "summarized"
    cache: bool = True
    cache_ttl: str = "5m"
    max_steps: int = 20
    max_retries: int = 2
    timeout: float = 600.0
    tool_timeout: float = 120.0
    tool_result_budget: int = 20_000           # characters of a tool result sent to Claude
    rerun: str = "replace"                     # re-running a cell: "replace" its turn, or "append" a new one
    context_window_check: bool = True          # refuse a turn that would overflow the context window
    aliases: dict[str, str] = field(default_factory=dict)
    extra_headers: dict[str, str] = field(default_factory=dict, repr=False)   # values are secrets
    output_format: dict[str, Any] | None = None   # structured answers: `output_config.format` (claude_magic.structured)
    engine: str = "auto"                       # "auto", "api" or "claude-code"
    claude_code_tools: tuple[str, ...] = ()    # Claude Code's own tools to offer (Bash, Read, ...): none by default
    claude_code_cli: str | None = None         # None: the CLI bundled with claude-agent-sdk
    claude_code_env: dict[str, str] = field(default_factory=dict, repr=False)   # extra CLI environment: secrets
    replay: bool = True                        # re-run cells whose request is unchanged replay their recording

    def with_options(self, **changes: Any) -> Settings:
        """A copy with the non-None `changes` applied."""
        return replace(self, **{key: value for key, value in changes.items() if value is not None})


@dataclass(frozen=True)
class TurnOptions:
    """Per-turn choices that are not session defaults."""

    conversation: str = ""
    new: bool = False                          # answer outside the conversation
    cell_id: str | None = None
    tools: tuple[str, ...] | None = None       # None: all registered; () : none
    fresh: bool = False                        # ask even when the recorded turn could be replayed
    in_cell: bool = False                      # sent by a notebook cell (with or without a cell id)
