"""Kernel tools: Python functions Claude may call, the built-in workspace tools, consent and the runner.

`@tool` offers a function to Claude; `default_toolbox()` is the kernel's registry (built-ins included);
a front end passes a `ToolContext` (consent buttons, main-thread runner) with each turn.
"""

from __future__ import annotations

from .bundles import MimeBundle
from .consent import POLICIES, ConsentUnavailable, Policy
from .context import ToolCall, ToolContext
from .describe import describe_tools
from .output import ToolOutput
from .registry import Tool, Toolbox, ToolDefinitionError, apply_config, default_toolbox, tool

__all__ = [
    "tool", "Tool", "Toolbox", "ToolContext", "ToolCall", "ToolOutput", "MimeBundle", "default_toolbox",
    "describe_tools", "apply_config", "Policy", "POLICIES", "ConsentUnavailable", "ToolDefinitionError",
]
