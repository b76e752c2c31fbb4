"""The engine seam: what a turn needs (`TurnRequest`) and what every engine provides (`Engine`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..core.cancellation import Cancellation
    from ..core.conversation import Conversation
    from ..core.events import Event, TurnFinished
    from ..core.pricing import Price
    from ..core.results import TurnResult
    from ..core.settings import Settings, TurnOptions, ViewOptions
    from ..tools.context import ToolContext
    from ..transport.client import ClientFactory
    from ..transport.context_window import ModelCatalog

__all__ = ["TurnRequest", "Engine", "Toolbox", "HasToolbox", "KernelSession", "offered_definitions"]


class Toolbox(Protocol):
    """What an engine needs from the toolbox (`tools.toolbox.Toolbox`)."""

    def definitions(self, names: tuple[str, ...] | None, *, sources: bool = True) -> list[dict[str, Any]]:
        """Tool parameters for the API, in a stable order (`names` None: all, (): none; `sources=False`:
        the registered tools only, no MCP server's)."""

    def run(self, calls: list[dict[str, Any]], emit: Callable[[Event], None],
            cancellation: Cancellation | None, context: ToolContext | None = None,
            settings: Settings | None = None) -> list[dict[str, Any]]:
        """Run `tool_use` blocks; return one `tool_result` block per call, in call order.

        `context` is whatever the front end passed as `tool_context` (consent UI, main-thread runner);
        `settings` are the turn's (tool_timeout, tool_result_budget).
        On Ctrl-C raise KeyboardInterrupt, optionally with `.results` {tool_use_id: tool_result} of the
        calls that finished.
        """


class HasToolbox(Protocol):
    """What the Claude Code engine and the MCP wiring read of the session: its toolbox."""

    toolbox: Toolbox | None


class KernelSession(HasToolbox, Protocol):
    """What the layers below the front door (the chat panel, `map`, the views) use of the kernel's session
    (`claude_magic.session.Session`, found through `core.kernel_session.current_session`)."""

    settings: Settings
    view_options: ViewOptions
    clients: ClientFactory
    conversations: dict[str, Conversation]
    listeners: list[Callable[[TurnFinished], None]]

    def conversation(self, name: str = "") -> Conversation:
        """The named conversation, created on first use."""

    def ask(self, prompt: str | list[dict[str, Any]], *, settings: Settings | None = None, options: TurnOptions | None = None,
            emit: Callable[[Event], None] | None = None, cancellation: Cancellation | None = None,
            wait: float = 0.0, tool_context: ToolContext | None = None) -> TurnResult:
        """Run one turn; errors are in `result.error`."""


@dataclass(frozen=True)
class TurnRequest:
    """One prompt to answer in one conversation, with everything the engine may use."""

    conversation: Conversation
    prompt: list[dict[str, Any]]                 # content blocks
    prompt_text: str
    settings: Settings
    tool_names: tuple[str, ...] | None = None    # None: every enabled tool; (): none
    cell_id: str | None = None
    emit: Callable[[Event], None] = field(default=lambda _event: None)
    cancellation: Cancellation | None = None
    tool_context: ToolContext | None = None       # the front end's consent UI and main-thread runner
    prices: dict[str, Price] = field(default_factory=dict)
    catalog: ModelCatalog | None = None
    toolbox: Toolbox | None = None
    spent: float = 0.0                            # USD the session's turns spent before this one (max_budget_usd)
    uploads: Any = None                           # the session's `transport.file_uploads.FileUploads` (Files API)


class Engine(Protocol):
    """Answers turns: emits `claude_magic.core.events`, leaves the Conversation valid, appends a `TurnRecord`."""

    name: str

    def run_turn(self, request: TurnRequest) -> TurnResult:
        """Run the turn to its end (errors go into `result.error`; Ctrl-C ends it as interrupted)."""

    def close(self) -> None:
        """Release processes and connections (kernel exit, `%claude reset`)."""


def offered_definitions(toolbox: Toolbox | None, names: tuple[str, ...] | None, engine: str) -> list[dict[str, Any]]:
    """The tool definitions `engine` offers Claude: every enabled tool for the API; for Claude Code the kernel's
    own only (the CLI gets the MCP servers themselves)."""
    if toolbox is None:
        return []
    if engine == "claude-code":
        return [item for item in toolbox.definitions(names, sources=False) if not item["name"].startswith("mcp__")]
    return toolbox.definitions(names)
