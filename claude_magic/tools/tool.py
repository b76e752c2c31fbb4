"""The tool type: a Python function offered to Claude, its API definition (schema from hints and docstring),
its default consent policy, and the errors of a function that cannot be a tool or of arguments that do not fit."""

from __future__ import annotations

import inspect
import json
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..core.errors import ClaudeMagicError
from .policy import Policy, check_policy

__all__ = ["Tool", "ToolDefinitionError", "ToolInputError"]

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

    Tools that act on the page (`claude_magic.cells`) set three more: `policy_for(arguments)` gives the
    default policy of one call (a configured policy still wins); `approver(call)` asks the user where the
    call would act (on the cell), used when the front end gave none; `replays_recorded`: replay returns the
    recorded result instead of acting a second time; `fingerprinted` False leaves them out of the request
    fingerprint that decides replay (they are offered only where a page can show cells).
    """

    policy_for: Callable[[dict[str, Any]], Policy] | None = None
    approver: Callable[[Any], bool] | None = None
    replays_recorded: bool = False
    fingerprinted: bool = True      # False: offered or not by the front end, so left out of replay's fingerprint

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
