"""The tool registry: Python functions offered to Claude, their API definitions and consent policies."""

from __future__ import annotations

import fnmatch
import inspect
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from ..core.errors import ClaudeMagicError, ConfigurationError
from .consent import Policy, check_policy, configured_policy, is_pattern

if TYPE_CHECKING:
    from ..core.cancellation import Cancellation
    from ..core.events import Event
    from ..core.settings import Settings
    from .context import ToolContext

__all__ = [
    "Tool", "Toolbox", "tool", "default_toolbox", "apply_config", "ToolDefinitionError", "ToolInputError",
    "ToolSource", "NamePatterns",
]

F = TypeVar("F", bound=Callable[..., Any])
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ToolDefinitionError(ClaudeMagicError):
    """A function that cannot become a tool (bad name, parameter types without a JSON schema)."""


class ToolInputError(Exception):
    """Claude sent arguments that do not fit the tool's signature."""


class Tool:
    """A Python function offered to Claude; the schema comes from its hints and docstring (`anthropic.beta_tool`).

    `consent` is the default policy (ask, allow, deny); `main_thread` tools run on the kernel's main
    thread, one after another (code execution, matplotlib); the others run concurrently.
    """

    def __init__(self, function: Callable[..., Any], *, name: str | None = None, description: str | None = None,
                 consent: str = "allow", main_thread: bool = False, builtin: bool = False,
                 input_schema: dict[str, Any] | None = None) -> None:
        self.function = function
        self.is_async = inspect.iscoroutinefunction(function)
        self.builtin = builtin
        self.name = name or getattr(function, "__name__", "")
        if not _NAME.match(self.name):
            raise ToolDefinitionError(f"A tool name must be 1-64 letters, digits, '_' or '-' (got {self.name!r}); "
                                      "pass name=... to @tool.")
        self.consent: Policy = check_policy(consent, self.name)
        self.main_thread = main_thread
        self._description = description
        self._input_schema = input_schema
        self._sdk_tool: Any = None
        self._definition: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        kind = "async " if self.is_async else ""
        return f"<Tool {self.name!r} ({kind}{self.kind}, consent={self.consent})>"

    @property
    def kind(self) -> str:
        """Where the tool comes from, as `%claude tools` shows it ("built-in", "user", "MCP server git")."""
        return "built-in" if self.builtin else "user"

    @property
    def sdk_tool(self) -> Any:
        """The SDK's `BetaFunctionTool` / `BetaAsyncFunctionTool` (built on first use: it imports pydantic)."""
        if self._sdk_tool is None:
            with self._lock:
                if self._sdk_tool is None:
                    self._sdk_tool = self._build_sdk_tool()
        return self._sdk_tool

    def _build_sdk_tool(self) -> Any:
        import anthropic

        make = anthropic.beta_async_tool if self.is_async else anthropic.beta_tool
        try:
            return make(self.function, name=self.name, description=self._description,  # type: ignore[call-overload]
                        input_schema=self._input_schema)
        except Exception as exc:  # noqa: BLE001 - pydantic raises several types for unusable hints
            raise ToolDefinitionError(
                f"Cannot make a tool from {self.name}: {type(exc).__name__}: {str(exc).splitlines()[0]} "
                "(parameters need JSON-friendly type hints: str, int, float, bool, list, dict, Literal, "
                "pydantic models)") from exc

    @property
    def definition(self) -> dict[str, Any]:
        """The tool parameter for the API (computed once, so every turn sends the same bytes)."""
        if self._definition is None:
            data = json.loads(json.dumps(self.sdk_tool.to_dict()))
            if not data.get("description"):
                data["description"] = f"Call the Python function {self.name}{_signature(self.function)}."
            self._definition = data
        return self._definition

    @property
    def description(self) -> str:
        return str(self.definition.get("description", ""))

    def call(self, arguments: dict[str, Any]) -> Any:
        """Call the (sync) function with validated arguments."""
        try:
            return self.sdk_tool.call(arguments)
        except (ValueError, TypeError) as exc:
            raise _input_error(self.name, exc) from exc

    async def acall(self, arguments: dict[str, Any]) -> Any:
        """Await the async function with validated arguments."""
        try:
            return await self.sdk_tool.call(arguments)
        except (ValueError, TypeError) as exc:
            raise _input_error(self.name, exc) from exc


def _copied(data: Any) -> Any:
    """A copy of JSON data (a tool definition) that callers may change: `deepcopy` at a third of the cost."""
    if type(data) is dict:
        return {key: _copied(value) for key, value in data.items()}
    if type(data) is list:
        return [_copied(value) for value in data]
    return data


def _signature(function: Callable[..., Any]) -> str:
    """The signature with annotations evaluated where possible (`from __future__ import annotations`)."""
    try:
        return str(inspect.signature(function, eval_str=True))
    except Exception:  # noqa: BLE001 - unresolvable annotations: show them as written
        return str(inspect.signature(function))


def _input_error(name: str, exc: Exception) -> Exception:
    """A readable `ToolInputError` for pydantic validation failures; other errors unchanged."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        details = "; ".join(
            f"{'.'.join(str(part) for part in error.get('loc', ())) or 'input'}: {error.get('msg', '')}"
            for error in errors(include_url=False)
        )
        return ToolInputError(f"Invalid arguments for {name}: {details}")
    if str(exc).startswith("Input must be a dictionary"):
        return ToolInputError(f"Invalid arguments for {name}: {exc}")
    return exc


class ToolSource(Protocol):
    """Tools that come from elsewhere (MCP servers), listed after the registered ones, in a stable order."""

    def tools(self, names: Iterable[str] | None = None, *, start: bool = True) -> list[Tool]:
        """The source's tools. `names` (names or globs) may narrow what must be listed; `start=False`:
        only what is already known, without starting anything."""


class NamePatterns(frozenset):  # type: ignore[type-arg]
    """A set of tool names and globs: `name in patterns` is true for an entry or a glob that matches it."""

    def __contains__(self, name: object) -> bool:
        if frozenset.__contains__(self, name):
            return True
        return isinstance(name, str) and any(is_pattern(item) and fnmatch.fnmatchcase(name, item) for item in self)


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
    def policy(self, name: str) -> Policy:
        """The effective policy: configured for `name`, else the longest configured glob matching it
        (`mcp__git__*`, then `*`), else the tool's own."""
        configured = configured_policy(name, self.policies)
        if configured:
            return configured
        item = self.get(name)
        return item.consent if item is not None else "deny"

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
        else:
            with self._lock:
                tools = list(self._tools.values())
        if names is None:
            chosen = [item for item in tools if item.name not in self.disabled]
        else:
            exact = {name for name in names if not is_pattern(name)}
            globs = NamePatterns(name for name in names if is_pattern(name))
            chosen = [item for item in tools if item.name in exact
                      or (item.name in globs and item.name not in self.disabled)]
        return [_copied(item.definition) for item in chosen]

    def run(self, calls: list[dict[str, Any]], emit: Callable[[Event], None], cancellation: Cancellation | None,
            context: ToolContext | None = None, settings: Settings | None = None) -> list[dict[str, Any]]:
        """Run a turn's `tool_use` blocks (consent first, then concurrently); one `tool_result` each, in order."""
        from .executor import run_calls

        return run_calls(self, calls, emit, cancellation, context, settings)


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
