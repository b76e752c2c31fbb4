"""claude-magic settings as `ClaudeAgentOptions` fields, and one line for each setting Claude Code has no equivalent for."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from ...core.model_names import resolve_model
from ...core.settings import Settings

__all__ = ["SessionOptions", "session_options"]


@dataclass(frozen=True)
class SessionOptions:
    """What a CLI session is started with; `key` changes when a new process is needed."""

    fields: dict[str, Any]
    model: str
    key: tuple[Any, ...]
    notices: tuple[str, ...]


def _thinking(settings: Settings) -> dict[str, Any]:
    if settings.thinking is None:
        return {"type": "disabled"}
    if settings.thinking == "adaptive":
        return {"type": "adaptive"}
    return {"type": "enabled", "budget_tokens": int(settings.thinking)}


_WEB_TOOLS = {"web_search": "WebSearch", "web_fetch": "WebFetch"}


def claude_code_tools(settings: Settings) -> list[str]:
    """Claude Code's own tools to offer: `claude_code_tools`, plus WebSearch / WebFetch when `--web` or
    `server_tools` turns the web on (each call still asks per `tool_policies`)."""
    tools = list(settings.claude_code_tools)
    for item in settings.server_tools:
        name = _WEB_TOOLS.get(item if isinstance(item, str) else item.get("name") if isinstance(item, dict) else "")
        if name and name not in tools:
            tools.append(name)
    return tools


def session_options(settings: Settings, kernel_tools: list[dict[str, Any]],
                    mcp_servers: dict[str, Any]) -> SessionOptions:
    """The options for `settings` (the kernel-tool server and callbacks are added by the engine)."""
    defaults = Settings()
    model = resolve_model(settings.model, settings.aliases)
    env = {**settings.claude_code_env, "CLAUDE_CODE_MAX_OUTPUT_TOKENS": str(settings.max_tokens)}
    fields: dict[str, Any] = {
        "system_prompt": settings.system,
        "thinking": _thinking(settings),
        "effort": settings.effort,
        "tools": claude_code_tools(settings),
        "max_turns": settings.max_steps,
        "max_budget_usd": settings.max_budget_usd,        # the CLI stops a query past it (error_max_budget_usd)
        "env": env,
        "cli_path": settings.claude_code_cli,
        "cwd": os.getcwd(),
        "include_partial_messages": True,
        "permission_mode": "default",
        "client_app": "claude-magic",
        # Exactly the MCP servers claude-magic shows (the user's own and approved project ones): the CLI must
        # not load a project's `.mcp.json` itself (in SDK mode it asks nobody before starting them).
        "strict_mcp_config": True,
        # The user's own Claude Code settings only: a project's `.claude/settings*.json` (a cloned repo's) can
        # hold hooks, which the CLI would run as commands with nobody asked.
        "setting_sources": ["user"],
    }
    if mcp_servers:
        fields["mcp_servers"] = dict(mcp_servers)
    notices = []
    if not settings.cache and defaults.cache:
        notices.append("--no-cache has no Claude Code equivalent: Claude Code manages prompt caching itself.")
    if settings.cache_ttl != defaults.cache_ttl:
        notices.append("--cache-ttl has no Claude Code equivalent: Claude Code manages prompt caching itself.")
    if settings.thinking_display != defaults.thinking_display:
        notices.append("ClaudeMagic.thinking_display has no Claude Code equivalent: thinking is shown as "
                       "Claude Code returns it.")
    if settings.extra_headers:
        notices.append("ClaudeMagic.headers apply to the API engine only: Claude Code sends its own requests.")
    if settings.base_url:
        notices.append("ClaudeMagic.base_url applies to the API engine only: set ANTHROPIC_BASE_URL in "
                       "ClaudeMagic.claude_code_env for Claude Code.")
    key = (
        settings.system, json.dumps(fields["thinking"], sort_keys=True), settings.effort,
        tuple(claude_code_tools(settings)), settings.max_steps, settings.max_budget_usd, tuple(sorted(env.items())),
        settings.claude_code_cli,
        fields["cwd"], json.dumps([tool["name"] for tool in kernel_tools]),
        json.dumps(kernel_tools, sort_keys=True, default=str), json.dumps(mcp_servers, sort_keys=True, default=str),
    )
    return SessionOptions(fields, model, key, tuple(notices))
