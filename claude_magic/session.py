"""The one session per kernel: client, conversations, tools, usage totals and the last result."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .core.cancellation import Cancellation
from .core.conversation import Conversation
from .core.errors import ClaudeMagicError, ConversationBusy, MissingCredentialError
from .core.events import Event, TurnFinished
from .core.pricing import Price
from .core.results import TurnResult
from .core.settings import Settings, TurnOptions, ViewOptions
from .core.usage import Usage
from .engines.base import Engine, Toolbox, TurnRequest
from .replay.planner import ReplayPlanner
from .transport.client import ClientFactory
from .transport.context_window import ModelCatalog
from .transport.file_uploads import FileUploads

if TYPE_CHECKING:
    from .store.seams import SessionStore

__all__ = ["Session", "get_session", "unpriced"]


class Session:
    """Everything a kernel's conversations with Claude share."""

    def __init__(self, settings: Settings | None = None, toolbox: Toolbox | None = None) -> None:
        self.settings = settings or Settings()
        self.view_options = ViewOptions()   # how the front end shows turns (the magic pushes `%config` into both)
        self.clients = ClientFactory()
        self.conversations: dict[str, Conversation] = {"": Conversation("")}
        self.toolbox = toolbox
        self.prices: dict[str, Price] = {}
        self.catalog = ModelCatalog()
        self.usage = Usage()
        self.cost = 0.0                 # USD of the priced turns
        self.unpriced_turns = 0         # turns that used tokens on a model without a price: `cost` is then partial
        self.last: TurnResult | None = None
        self.listeners: list[Callable[[TurnFinished], None]] = []  # told after every turn (chat panels); quick, no raising
        self.engines: dict[str, Engine] = {}
        self.replays = ReplayPlanner()  # restored conversations matched in order (claude_magic.replay)
        self.store: SessionStore | None = None   # the notebook's store when persistence is on (claude_magic.store)
        self.uploads = FileUploads()    # large attachments sent through the Files API (transport.file_uploads)
        self._locks: dict[str, threading.Lock] = {}
        self._state_lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"<Session model={self.settings.model!r} conversations={len(self.conversations)} "
                f"turns={sum(len(c) for c in self.conversations.values())}>")

    def conversation(self, name: str = "") -> Conversation:
        """The named conversation, created on first use (the default one has no name)."""
        with self._state_lock:
            if name not in self.conversations:
                self.conversations[name] = Conversation(name)
            return self.conversations[name]

    def lock_for(self, name: str) -> threading.Lock:
        """The lock that serializes turns on one conversation."""
        with self._state_lock:
            return self._locks.setdefault(name, threading.Lock())

    def ask(self, prompt: str | list[dict[str, Any]], *, settings: Settings | None = None,
            options: TurnOptions | None = None, emit: Callable[[Event], None] | None = None,
            cancellation: Cancellation | None = None, wait: float = 0.0,
            tool_context: Any = None) -> TurnResult:
        """Run one turn; returns its result (errors are in `result.error`, never raised as tracebacks)."""
        settings = settings or self.settings
        options = options or TurnOptions()
        content, text = _prompt_content(prompt)
        engine_name, missing = self._engine_name(settings)
        conversation = Conversation("(new)") if options.new else self.conversation(options.conversation)
        lock = self.lock_for(conversation.name if not options.new else f"(new){id(conversation)}")
        acquired = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
        if not acquired:
            label = f"conversation {conversation.name!r}" if conversation.name else "the default conversation"
            raise ConversationBusy(f"A turn is already running in {label} (chat panel or another cell): "
                                   "wait for it to finish or press Stop, then re-run.")
        try:
            request = TurnRequest(
                conversation=conversation, prompt=content, prompt_text=text, settings=settings,
                tool_names=options.tools, cell_id=options.cell_id, emit=emit or _ignore,
                cancellation=cancellation, tool_context=tool_context, prices=self.prices,
                catalog=self.catalog, toolbox=self.toolbox, spent=self.cost, uploads=self.uploads,
            )
            result = self._run(request, options, engine_name, missing)
        finally:
            lock.release()
        with self._state_lock:
            self.usage = self.usage + result.usage
            self.cost += result.cost or 0.0
            if unpriced(result.cost, result.usage):
                self.unpriced_turns += 1
            self.last = result
        for listener in list(self.listeners):
            listener(TurnFinished(result))
        return result


    def _run(self, request: TurnRequest, options: TurnOptions, engine_name: str | None,
             missing: ClaudeMagicError | None) -> TurnResult:
        """Replace the re-run cell's turn: replay its recording when the request is unchanged, else ask."""
        from .replay.turn import replay_or_ask

        return replay_or_ask(request, options, self.replays, engine_name, missing, self._engine_named)

    def _engine_name(self, settings: Settings) -> tuple[str | None, ClaudeMagicError | None]:
        """The engine these settings pick, or the one-line reason none can (a replay needs none)."""
        from .engines.selection import choose_engine

        try:
            return choose_engine(settings), None
        except MissingCredentialError as error:
            return None, error

    def engine(self, settings: Settings | None = None) -> Engine:
        """The engine that answers with these settings (`ClaudeMagic.engine`; "auto" per `choose_engine`)."""
        from .engines.selection import choose_engine

        return self._engine_named(choose_engine(settings or self.settings))

    def _engine_named(self, name: str) -> Engine:
        with self._state_lock:
            engine = self.engines.get(name)
            if engine is None:
                engine = self.engines[name] = _make_engine(name, self)
            return engine

    def close(self) -> None:
        """Stop every engine's processes and connections (kernel exit)."""
        with self._state_lock:
            engines, self.engines = list(self.engines.values()), {}
        for engine in engines:
            engine.close()


def _make_engine(name: str, session: Session) -> Engine:
    """A new engine by name (the Claude Code one is imported only when used)."""
    if name == "claude-code":
        from .engines.claude_code import ClaudeCodeEngine

        return ClaudeCodeEngine(session)
    from .engines.messages_api import ApiEngine

    return ApiEngine(session.clients)


def unpriced(cost: float | None, usage: Usage) -> bool:
    """Whether a turn's cost is unknown: it used tokens on a model without a price."""
    return cost is None and bool(usage.total_input_tokens or usage.output_tokens)


def _ignore(_event: Event) -> None:
    return None


def _prompt_content(prompt: str | list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Prompt as content blocks plus its text (for records and history)."""
    if isinstance(prompt, str):
        if not prompt.strip():
            raise ClaudeMagicError("The prompt is empty: write what you want to ask.")
        _check_encodable(prompt)
        return [{"type": "text", "text": prompt}], prompt
    blocks = list(prompt)
    if not blocks:
        raise ClaudeMagicError("The prompt is empty: write what you want to ask.")
    _check_encodable(blocks)
    text = "\n".join(block.get("text", "") for block in blocks if block.get("type") == "text")
    return blocks, text


def _check_encodable(value: Any) -> None:
    """One line, before anything is sent, if a string in the prompt cannot be UTF-8 (a lone surrogate)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                character = item[error.start]
                before = item[max(0, error.start - 20):error.start].splitlines()[-1:] or [""]
                raise ClaudeMagicError(
                    f"The prompt holds a character that cannot be sent (a lone surrogate, U+{ord(character):04X}, "
                    f"after {before[0]!r}): remove it and re-run.") from None
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


_session: Session | None = None
_session_lock = threading.Lock()


def get_session() -> Session:
    """The kernel's session (created on first use)."""
    global _session
    with _session_lock:
        if _session is None:
            from .cells import notebook_tools
            from .tools import default_toolbox

            toolbox = default_toolbox()
            toolbox.add_source(notebook_tools())    # offered while a page can edit the notebook
            _session = Session(toolbox=toolbox)
            import atexit

            atexit.register(_session.close)
        return _session
