"""Per-turn options (the `%%claude` flags, `ask`/`chat`/`map` keywords) checked and applied over the session's settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .errors import ConfigurationError
from .settings import CACHE_TTLS, EFFORT_LEVELS, ENGINE_NAMES, Settings, TurnOptions, check_choice

__all__ = ["turn_settings", "with_web", "WEB_TOOLS"]


def turn_settings(base: Settings, *, model: str | None = None, system: str | None = None,
                  max_tokens: int | None = None, think: str | int | None = None,
                  effort: str | None = None, cache_ttl: str | None = None, no_cache: bool = False,
                  chat: str | None = None, new: bool = False, tools: tuple[str, ...] | None = None,
                  cell_id: str | None = None, engine: str | None = None, fresh: bool = False,
                  in_cell: bool = False, web: bool | None = None) -> tuple[Settings, TurnOptions]:
    """Validate per-turn options and apply them over the session defaults (`web`: `--web` / `--no-web`)."""
    check_choice("engine", engine, ENGINE_NAMES)
    if max_tokens is not None and max_tokens < 1:
        raise ConfigurationError(f"max_tokens must be a positive integer, not {max_tokens}")
    check_choice("effort", effort, EFFORT_LEVELS)
    if think is not None and think != "adaptive":
        try:
            think = int(think)
        except (TypeError, ValueError):
            raise ConfigurationError(f"--think takes no value (adaptive) or a token budget such as 4000, "
                                     f"not {think!r}") from None
    check_choice("cache ttl", cache_ttl, CACHE_TTLS)
    if model is not None and not model.strip():
        raise ConfigurationError("the model name is empty")
    if effort is not None and think is None and base.thinking is None:
        think = "adaptive"          # so there is (summarized) thinking to show for the effort spent
    settings = base.with_options(model=model, system=system, max_tokens=max_tokens, thinking=think,
                                 effort=effort, cache_ttl=cache_ttl, engine=engine)
    if no_cache:
        settings = settings.with_options(cache=False)
    if web is not None:
        settings = replace(settings, server_tools=with_web(settings.server_tools, web))
    options = TurnOptions(conversation=chat or "", new=new, cell_id=cell_id, tools=tools, fresh=fresh,
                          in_cell=in_cell)
    return settings, options


WEB_TOOLS = ("web_search", "web_fetch")


def with_web(specs: tuple[Any, ...], on: bool) -> tuple[Any, ...]:
    """`--web` / `--no-web` over `ClaudeMagic.server_tools`: both web tools on (each keeping its configured
    options), or none."""
    if not on:
        return ()
    present = {item if isinstance(item, str) else item.get("name") for item in specs if isinstance(item, (str, dict))}
    return tuple(specs) + tuple(name for name in WEB_TOOLS if name not in present)
