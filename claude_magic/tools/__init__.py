"""Kernel tools: Python functions Claude may call, the built-in workspace tools, consent and the runner.

`@tool` offers a function to Claude; `default_toolbox()` is the kernel's toolbox (built-ins included);
a front end passes a `ToolContext` (consent buttons, main-thread runner) with each turn.

The tool type is `tool.Tool`, the toolbox `toolbox.Toolbox` (policies from `policy`, calls run by `executor`,
consent decided by `decision`); `kernel_toolbox` is the wiring that adds the built-ins and the MCP servers'
tools. The built-ins and `claude_magic.mcp` import the type, never the wiring.
"""

from __future__ import annotations

from .bundles import MimeBundle
from .consent import ConsentUnavailable
from .context import ToolCall, ToolContext
from .describe import describe_tools
from .kernel_toolbox import apply_config, default_toolbox, tool
from .output import ToolOutput
from .policy import POLICIES, Policy
from .tool import Tool, ToolDefinitionError
from .toolbox import Toolbox

__all__ = [
    "tool", "Tool", "Toolbox", "ToolContext", "ToolCall", "ToolOutput", "MimeBundle", "default_toolbox",
    "describe_tools", "apply_config", "Policy", "POLICIES", "ConsentUnavailable", "ToolDefinitionError",
]
