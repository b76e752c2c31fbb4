"""The toolbox: the tools a session offers (registered ones, then those of sources such as MCP servers),
their configured policies and opt-outs, the API definitions, and running a turn's calls."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, overload

from ..core.errors import ConfigurationError
from .policy import NamePatterns, Policy, check_policy, configured_policy, is_pattern
from .tool import F, Tool

if TYPE_CHECKING:
    from ..core.cancellation import Cancellation
    from ..core.events import Event
    from ..core.settings import Settings
    from .context import ToolContext

__all__ = ["Toolbox", "ToolSource"]


def _copied(data: Any) -> Any:
    """A copy of JSON data (a tool definition) that callers may change: `deepcopy` at a third of the cost."""
    if type(data) is dict:
        return {key: _copied(value) for key, value in data.items()}
    if type(data) is list:
        return [_copied(value) for value in data]
    return data


class ToolSource(Protocol):
    """Tools that come from elsewhere (MCP servers), listed after the registered ones, in a stable order."""

    def tools(self, names: Iterable[str] | None = None, *, start: bool = True) -> list[Tool]:
        """The source's tools. `names` (names or globs) may narrow what must be listed; `start=False`:
        only what is already known, without starting anything."""


class Toolbox:
    """The tools a session offers, in a stable order, with per-tool policies and opt-outs.

    Registered tools come first (built-ins, then by first registration), then those of each `ToolSource`
    (`add_source`), so the tool list Claude sees keeps its order from turn to turn (prompt caching).
    """

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self.policies: dict[str, Policy] = {}
        self.disabled: frozenset[str] = NamePatterns()
        self.sources: list[ToolSource] = []
        self._lock = threading.Lock()
        for item in tools:
            self.add(item)

    def __repr__(self) -> str:
        return f"<Toolbox {', '.join(self.names()) or '(empty)'}>"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> Tool:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools(start=False))

    def __len__(self) -> int:
        return len(self.tools(start=False))

    def get(self, name: str) -> Tool | None:
        """The tool called `name`: registered, or already listed by a source (nothing is started)."""
        found = self._tools.get(name)
        if found is None and self.sources:
            found = next((item for item in self._source_tools(None, start=False) if item.name == name), None)
        return found

    def names(self) -> list[str]:
        """Tool names in the order they are offered (built-ins first, then by first registration, then sources)."""
        return [item.name for item in self.tools(start=False)]

    def tools(self, names: Iterable[str] | None = None, *, start: bool = False) -> list[Tool]:
        """Every tool in offered order; with `start`, sources list theirs first (`names` may narrow which)."""
        with self._lock:
            own = list(self._tools.values())
        return own + self._source_tools(names, start=start) if self.sources else own

    def _source_tools(self, names: Iterable[str] | None, *, start: bool) -> list[Tool]:
        wanted = None if names is None else tuple(names)
        own = set(self._tools)
        found: list[Tool] = []
        for source in list(self.sources):
            found += [item for item in source.tools(wanted, start=start) if item.name not in own]
        return found

    def add_source(self, source: ToolSource) -> ToolSource:
        """Offer `source`'s tools after the registered ones (once; adding it again changes nothing)."""
        if source not in self.sources:
            self.sources = [*self.sources, source]
        return source

    # -- registering -----------------------------------------------------------------------------
    def add(self, item: Tool) -> Tool:
        """Register `item`; a tool of the same name is replaced in place (the offered order stays)."""
        if not item.builtin:
            item.definition  # noqa: B018 - fail now, where the user defined it, not in a later turn
        with self._lock:
            self._tools[item.name] = item
        return item

    def remove(self, name: str) -> None:
        """Unregister a tool (KeyError if unknown)."""
        with self._lock:
            del self._tools[name]

    @overload
    def tool(self, function: F, /) -> F: ...

    @overload
    def tool(self, *, name: str | None = None, description: str | None = None, consent: str = "allow",
             main_thread: bool = False) -> Callable[[F], F]: ...

    def tool(self, function: F | None = None, /, *, name: str | None = None, description: str | None = None,
             consent: str = "allow", main_thread: bool = False) -> F | Callable[[F], F]:
        """Decorator registering a function in this toolbox (the function itself is returned unchanged)."""
        check_policy(consent, name or "")

        def register(fn: F) -> F:
            self.add(Tool(fn, name=name, description=description, consent=consent, main_thread=main_thread))
            return fn

        return register(function) if function is not None else register

    # -- policies --------------------------------------------------------------------------------
    def policy(self, name: str, arguments: dict[str, Any] | None = None) -> Policy:
        """The effective policy: configured for `name`, else the longest configured glob matching it
        (`mcp__git__*`, then `*`), else the tool's own (for these `arguments`, when the tool says)."""
        configured = configured_policy(name, self.policies)
        if configured:
            return configured
        item = self.get(name)
        if item is None:
            return "deny"
        if item.policy_for is not None and arguments is not None:
            return item.policy_for(arguments)
        return item.consent

    def set_policy(self, name: str, policy: str) -> None:
        """Override one tool's policy ("*" for every tool without its own override)."""
        self.policies = {**self.policies, name: check_policy(policy, name)}

    def configure(self, policies: dict[str, str] | None = None, disabled: Iterable[str] | None = None) -> None:
        """Replace the configured policies and/or the disabled tools (names may be registered later)."""
        if policies is not None:
            self.policies = {name: check_policy(value, name) for name, value in policies.items()}
        if disabled is not None:
            self.disabled = NamePatterns(disabled)

    def validate_names(self, names: Iterable[str]) -> None:
        """Raise `ConfigurationError` for names (or globs) that match no tool (e.g. `--tools` typos)."""
        names = tuple(names)
        known = [item.name for item in self.tools(names, start=True)]
        unknown = [name for name in names if not (fnmatch.filter(known, name) if is_pattern(name) else name in known)]
        if unknown:
            raise ConfigurationError(f"unknown tool(s): {', '.join(unknown)}; available: "
                                     f"{', '.join(self.names()) or 'none'} (see `%claude tools`)")

    # -- the agent loop's interface --------------------------------------------------------------
    def definitions(self, names: tuple[str, ...] | None = None, *, sources: bool = True) -> list[dict[str, Any]]:
        """API tool parameters in offered order: `names` None → every enabled tool, () → none.

        Sources start what they need to list their tools (`sources=False`: registered tools only, nothing
        starts — the Claude Code engine hands MCP servers to the CLI instead). Explicitly named tools are
        offered even when disabled in config; a glob in `names` picks the enabled tools it matches; unknown
        names are skipped (check them first with `validate_names`).
        """
        if names is not None and not names:
            return []
        if sources:
            tools = self.tools(names, start=True)
        else:                  # registered tools, and sources whose tools run in the kernel (notebook cells)
            with self._lock:
                tools = list(self._tools.values())
            own = {item.name for item in tools}
            tools += [item for source in list(self.sources) if getattr(source, "runs_in_kernel", False)
                      for item in source.tools(names, start=True) if item.name not in own]
        if names is None:
            chosen = [item for item in tools if item.name not in self.disabled]
        else:
            exact = {name for name in names if not is_pattern(name)}
            globs = NamePatterns(name for name in names if is_pattern(name))
            chosen = [item for item in tools if item.name in exact
                      or (item.name in globs and item.name not in self.disabled)]
        return [_copied(item.definition) for item in chosen]

    def run(self, calls: list[dict[str, Any]], emit: Callable[[Event], None], cancellation: Cancellation | None,
            context: ToolContext | None = None, settings: Settings | None = None,
            conversation: str = "") -> list[dict[str, Any]]:
        """Run a turn's `tool_use` blocks (consent first, then concurrently); one `tool_result` each, in order."""
        from .executor import run_calls

        return run_calls(self, calls, emit, cancellation, context, settings, conversation)
