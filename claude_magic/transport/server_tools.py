"""The API's server tools (web search, web fetch) as request parameters, at the newest version the SDK knows.

A spec is a name (`"web_search"`, `"web_fetch"`) or a dict with `name` and the tool's options
(`max_uses`, `allowed_domains` or `blocked_domains`, and for web fetch `citations`, `max_content_tokens`).
The version comes from the installed `anthropic` package's own types (`WebSearchTool20260318Param`, ...):
the newest date it defines, so a newer SDK offers a newer tool with no change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from ..core.errors import ConfigurationError

__all__ = ["SERVER_TOOL_NAMES", "server_tool_params", "server_tool_names", "newest_version"]

SERVER_TOOL_NAMES = ("web_search", "web_fetch")
_CLASS = {"web_search": "WebSearchTool", "web_fetch": "WebFetchTool"}
_OPTIONS = {
    "web_search": {"max_uses", "allowed_domains", "blocked_domains", "user_location"},
    "web_fetch": {"max_uses", "allowed_domains", "blocked_domains", "citations", "max_content_tokens"},
}


@cache
def newest_version(name: str) -> str:
    """The newest tool type the SDK defines for `name`, e.g. `web_search_20260318`."""
    import anthropic.types as types

    pattern = re.compile(rf"^{_CLASS[name]}(\d{{8}})Param$")
    dates = sorted(match.group(1) for item in dir(types) if (match := pattern.match(item)))
    if not dates:
        raise ConfigurationError(f"this anthropic release defines no {name} tool: upgrade it (pip install -U anthropic)")
    return f"{name}_{dates[-1]}"


def _spec(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict) or item.get("name") not in SERVER_TOOL_NAMES:
        raise ConfigurationError(f"server_tools takes 'web_search', 'web_fetch' or a dict with one of those names "
                                 f"and its options, not {item!r}")
    unknown = set(item) - {"name"} - _OPTIONS[item["name"]]
    if unknown:
        raise ConfigurationError(f"{item['name']} has no option {', '.join(sorted(unknown))} "
                                 f"(it takes {', '.join(sorted(_OPTIONS[item['name']]))})")
    if item.get("allowed_domains") and item.get("blocked_domains"):
        raise ConfigurationError(f"{item['name']}: allowed_domains and blocked_domains cannot be used together")
    uses = item.get("max_uses")
    if uses is not None and (not isinstance(uses, int) or isinstance(uses, bool) or uses < 1):
        raise ConfigurationError(f"{item['name']}: max_uses must be a positive integer, not {uses!r}")
    return dict(item)


def server_tool_names(specs: Iterable[Any]) -> tuple[str, ...]:
    """The names of the server tools `specs` turn on, in order."""
    return tuple(_spec(item)["name"] for item in specs)


def server_tool_params(specs: Iterable[Any]) -> list[dict[str, Any]]:
    """The tool definitions for `specs`: `{"type": "web_search_YYYYMMDD", "name": "web_search", ...options}`.
    Web fetch cites what it fetched unless the spec says otherwise."""
    params: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in specs:
        spec = _spec(item)
        name = spec.pop("name")
        if name in seen:
            raise ConfigurationError(f"server_tools names {name} twice")
        seen.add(name)
        if name == "web_fetch":
            spec.setdefault("citations", {"enabled": True})
        params.append({"type": newest_version(name), "name": name, **spec})
    return params
