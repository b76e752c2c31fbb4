"""The kernel's toolbox: the built-in workspace tools, every `@tool` function, then the MCP servers' tools.

This is the wiring (it imports the built-ins and the MCP source); the tool type is in `tool`, the toolbox in
`toolbox`, and neither imports this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import overload

from .tool import F
from .toolbox import Toolbox

__all__ = ["default_toolbox", "tool", "apply_config"]


_default: Toolbox | None = None
_default_lock = threading.Lock()


def default_toolbox() -> Toolbox:
    """The kernel's toolbox: the built-in workspace tools plus every `@tool` function."""
    global _default
    with _default_lock:
        if _default is None:
            from ..mcp.source import default_source
            from .builtins import builtin_tools

            _default = Toolbox(builtin_tools())
            _default.add_source(default_source())    # MCP servers' tools (nothing starts until a turn needs them)
        return _default


@overload
def tool(function: F, /) -> F: ...


@overload
def tool(*, name: str | None = None, description: str | None = None, consent: str = "allow",
         main_thread: bool = False, toolbox: Toolbox | None = None) -> Callable[[F], F]: ...


def tool(function: F | None = None, /, *, name: str | None = None, description: str | None = None,
         consent: str = "allow", main_thread: bool = False, toolbox: Toolbox | None = None) -> F | Callable[[F], F]:
    """Offer a Python function to Claude: `@tool` or `@tool(name=..., description=..., consent="ask")`.

    The schema comes from the type hints, the description from the docstring (Google, NumPy or reST
    parameter sections describe the arguments). Sync and `async def` functions both work. `consent`
    is "allow" (default: you wrote the function), "ask" (confirm each call) or "deny". Registers in the
    kernel's toolbox (or `toolbox`) and returns the function unchanged; re-running the cell replaces it.
    """
    target = toolbox if toolbox is not None else default_toolbox()
    register = target.tool(name=name, description=description, consent=consent, main_thread=main_thread)
    return register(function) if function is not None else register


def apply_config(toolbox: Toolbox, policies: dict[str, str] | None = None,
                 disabled: Iterable[str] | None = None) -> None:
    """Apply `ClaudeMagic.tool_policies` / `ClaudeMagic.disabled_tools` (validated; ConfigurationError)."""
    toolbox.configure(policies=policies, disabled=disabled)
