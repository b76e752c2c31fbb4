"""Plain settings for the core (the magic turns traitlets config into one of these)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

from .errors import ConfigurationError
from .model_names import DEFAULT_MODEL

__all__ = ["Settings", "ViewOptions", "TurnOptions", "LIMITS", "check_limit", "Effort", "EngineName", "CacheTtl", "EFFORT_LEVELS",
           "ENGINE_NAMES", "CACHE_TTLS", "check_choice", "ContextManagementMode", "CONTEXT_MANAGEMENT_MODES"]

# The choices of each option, defined once: the traitlets, argparse, the Python API and the validators read these.
Effort = Literal["low", "medium", "high", "xhigh", "max"]
EngineName = Literal["auto", "api", "claude-code"]
CacheTtl = Literal["5m", "1h"]
EFFORT_LEVELS: tuple[str, ...] = get_args(Effort)
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)
CACHE_TTLS: tuple[str, ...] = get_args(CacheTtl)
ContextManagementMode = Literal["auto", "off"]     # the API's context management where the model supports it, or never
CONTEXT_MANAGEMENT_MODES: tuple[str, ...] = get_args(ContextManagementMode)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """`ConfigurationError` (one line) unless `value` is None or one of `choices`."""
    if value is not None and value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, not {value!r}")

# The numeric settings' lower bounds: name -> (bound, whether the bound itself is refused, what it means).
LIMITS: dict[str, tuple[float, bool, str]] = {
    "timeout": (0, True, "a number of seconds above 0"),
    "tool_timeout": (0, False, "a number of seconds, 0 or more (0: no limit)"),
    "max_tokens": (1, False, "a positive integer"),
    "max_steps": (1, False, "a positive integer"),
    "tool_result_budget": (1, False, "a positive integer (characters)"),
    "max_retries": (0, False, "0 or more"),
    "map_confirm_above": (0, False, "a cost in USD, 0 or more, or None"),
    "compact_trigger": (1, False, "a positive number of input tokens"),
    "clear_trigger": (1, False, "a positive number of input tokens"),
    "clear_keep": (0, False, "0 or more (tool uses)"),
    "max_budget_usd": (0, True, "a cost in USD above 0, or None (no limit)"),
}


def check_limit(name: str, value: Any) -> None:
    """`ConfigurationError` (one line) if `value` is out of `LIMITS[name]`'s range; None passes (no limit)."""
    bound, strict, meaning = LIMITS[name]
    if value is None and name in ("tool_timeout", "map_confirm_above", "max_budget_usd"):
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not (value > bound if strict else value >= bound):     # NaN fails both
        raise ConfigurationError(f"{name} must be {meaning}, not {value!r}")


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
    output_format: dict[str, Any] | None = None   # structured answers: `output_config.format` (claude_magic.core.structured)
    engine: str = "auto"                       # "auto", "api" or "claude-code"
    claude_code_tools: tuple[str, ...] = ()    # Claude Code's own tools to offer (Bash, Read, ...): none by default
    claude_code_cli: str | None = None         # None: the CLI bundled with claude-agent-sdk
    claude_code_env: dict[str, str] = field(default_factory=dict, repr=False)   # extra CLI environment: secrets
    replay: bool = True                        # re-run cells whose request is unchanged replay their recording
    context_management: str = "auto"           # "auto": clear old tool results and compact where the model can; "off"
    compact_trigger: int = 150_000             # input tokens at which the API compacts the conversation
    clear_trigger: int = 100_000               # input tokens at which the API clears old tool results
    clear_keep: int = 3                        # the most recent tool uses whose results are never cleared
    max_budget_usd: float | None = None        # the most the kernel's turns may spend (USD), both engines; None: no limit
    files_api_above: int | None = 1024 * 1024  # attachments above this many bytes go through the Files API; None: never
    server_tools: tuple[Any, ...] = ()         # "web_search", "web_fetch" or {"name": ..., "max_uses": ...} (server_tools.py)

    def __post_init__(self) -> None:
        """Refuse a value no request could use (one line), wherever the settings are made."""
        for name in LIMITS:
            if name in self.__dataclass_fields__:
                check_limit(name, getattr(self, name))

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from configuration values named like the fields (the magic's traits): lists become tuples,
        dicts are copied, the CLI environment becomes strings, an empty CLI path means the bundled CLI."""
        converted = {name: tuple(value) if isinstance(value, list) else dict(value) if isinstance(value, dict)
                     else value for name, value in values.items()}
        if "claude_code_env" in converted:
            converted["claude_code_env"] = {str(key): str(value) for key, value in converted["claude_code_env"].items()}
        if "claude_code_cli" in converted:
            converted["claude_code_cli"] = converted["claude_code_cli"] or None
        return cls(**converted)

    def with_options(self, **changes: Any) -> Settings:
        """A copy with the non-None `changes` applied."""
        return replace(self, **{key: value for key, value in changes.items() if value is not None})


@dataclass(frozen=True)
class ViewOptions:
    """How turns are shown and confirmed in the front end (`ClaudeMagic.live_view`, ...); views read these from the
    session they are given."""

    live: bool = True                          # ipywidgets live view in notebook front ends (False: a refreshed output)
    thinking_open: bool = False                # thinking sections start expanded
    stream_widget: bool = True                 # the append-only stream widget (False: stock ipywidgets)
    map_confirm_above: float | None = 1.0      # `claude_magic.map` asks before a run estimated above this (USD)


@dataclass(frozen=True)
class TurnOptions:
    """Per-turn choices that are not session defaults."""

    conversation: str = ""
    new: bool = False                          # answer outside the conversation
    cell_id: str | None = None
    tools: tuple[str, ...] | None = None       # None: all registered; () : none
    fresh: bool = False                        # ask even when the recorded turn could be replayed
    in_cell: bool = False                      # sent by a notebook cell (with or without a cell id)
