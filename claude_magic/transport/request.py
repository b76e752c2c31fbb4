"""Building the Messages API parameters for one step, with a byte-stable, cache-friendly prefix."""

from __future__ import annotations

from typing import Any

from ..core.errors import ConfigurationError
from ..core.model_names import resolve_model
from ..core.settings import EFFORT_LEVELS, Settings, check_choice

__all__ = ["build_params", "thinking_param"]


def thinking_param(settings: Settings) -> tuple[dict[str, Any] | None, int]:
    """The `thinking` parameter and the `max_tokens` it needs."""
    thinking, max_tokens = settings.thinking, settings.max_tokens
    if thinking in (None, False, "off", "disabled"):
        return None, max_tokens
    display = settings.thinking_display
    if thinking in (True, "adaptive"):
        return {"type": "adaptive", "display": display}, max_tokens
    try:
        budget = int(thinking)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigurationError(f"thinking must be 'adaptive' or a token budget, not {thinking!r}") from None
    if budget < 1024:
        raise ConfigurationError(f"a thinking budget must be at least 1024 tokens (got {budget})")
    return {"type": "enabled", "budget_tokens": budget, "display": display}, max(max_tokens, budget + 4096)


def build_params(messages: list[dict[str, Any]], settings: Settings,
                 tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Keyword arguments for `client.messages.create(..., stream=True)` (tools → system → messages, a cache breakpoint last)."""
    thinking, max_tokens = thinking_param(settings)
    params: dict[str, Any] = {
        "model": resolve_model(settings.model, settings.aliases),
        "max_tokens": max_tokens,
        "messages": messages,
    }
    if settings.system:
        params["system"] = settings.system
    if settings.server_tools:                     # web search / fetch, run by the API (server_tools.py)
        from .server_tools import server_tool_params

        tools = [*(tools or []), *server_tool_params(settings.server_tools)]
    if tools:
        params["tools"] = tools
    if thinking is not None:
        params["thinking"] = thinking
    if settings.effort:
        check_choice("effort", settings.effort, EFFORT_LEVELS)
        params["output_config"] = {"effort": settings.effort}
    if settings.output_format is not None:
        params["output_config"] = {**params.get("output_config", {}), "format": settings.output_format}
    if settings.cache:
        control: dict[str, Any] = {"type": "ephemeral"}
        if settings.cache_ttl == "1h":
            control["ttl"] = "1h"
        params["cache_control"] = control
    return params
