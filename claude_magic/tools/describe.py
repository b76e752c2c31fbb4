"""The Markdown listing of a toolbox for `%claude tools`: names, policies, descriptions and schemas."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .toolbox import Toolbox

__all__ = ["describe_tools"]


def describe_tools(toolbox: Toolbox, schemas: bool = True) -> str:
    """Every registered tool: a summary table, then (with `schemas`) each description and input schema."""
    tools = toolbox.tools(start=True)   # MCP servers start here to list theirs (notebook tools: only when offered)
    if not tools:
        return "No tools are registered. Decorate a function with `@claude_magic.tool` to offer it to Claude."
    lines = ["| tool | consent | offered | kind | summary |", "|---|---|---|---|---|"]
    for item in tools:
        offered = "no (disabled)" if item.name in toolbox.disabled else "yes"
        kind = item.kind + (", async" if item.is_async and not item.kind.startswith("MCP") else "")
        summary = item.description.strip().splitlines()[0] if item.description.strip() else ""
        lines.append(f"| `{item.name}` | {toolbox.policy(item.name)} | {offered} | {kind} | "
                     f"{summary.replace('|', '&#124;')} |")
    lines.append("")
    lines.append("Consent: *ask* prompts before each call, *allow* runs it, *deny* refuses it "
                 "(`%config ClaudeMagic.tool_policies`, globs such as `mcp__git__*` too); `%%claude --tools a,b` "
                 "or `--no-tools` narrows a cell.")
    for source in toolbox.sources:
        missing = getattr(source, "missing_reason", "")
        if missing:
            names = ", ".join(f"`{item.name}`" for item in source.tools(start=False))
            lines += ["", f"Not offered now: {names}, because {missing}."]
    if schemas:
        for item in tools:
            lines += ["", f"### `{item.name}`", "", item.description.strip(), "",
                      "```json", json.dumps(item.definition.get("input_schema", {}), indent=2), "```"]
    return "\n".join(lines)
