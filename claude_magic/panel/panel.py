"""`ChatPanel`: a chat with Claude in the notebook, on the same conversations as `%%claude` cells.

Layout: a header (title, usage, model and conversation selectors), the message list (past turns as
sanitized HTML, the running turn as the live view's widgets), the consent box, the input with Send and
Stop, and a one-line status. Threads: widget callbacks (main thread) only enqueue work or flip a flag;
the panel's `Worker` runs turns one at a time and is the only thread that changes the message list;
tools that need the main thread get there through `MainThreadRunner`.

Stop acts within ~0.1 s while Claude streams, waits for a turn or asks for consent. While a tool runs on
the kernel's main thread (`run_python`), the panel's clicks wait for it like any widget message
(ipykernel routes a widget's messages to the main shell, where the widget was made); the kernel's
interrupt button ends such a tool at once, and the tool time limit applies.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from ..core.cancellation import Cancellation
from ..core.errors import ClaudeMagicError, ConversationBusy
from ..core.events import TurnFinished
from ..core.kernel_session import current_session
from ..core.model_names import ALIASES, resolve_model
from ..core.results import TurnResult
from ..core.turn_settings import turn_settings
from ..engines.base import KernelSession
from ..tools.context import ToolContext
from ..views.cards import MUTED
from ..views.markdown_export import transcript_markdown
from ..views.static import output_metadata, static_html
from ..views.turn_history import record_key, turn_records, turn_transcript
from ..views.widgets import close_widget
from .consent import ConsentBox
from .keys import KEYS_JS, split_send
from .mainthread import MainThreadRunner
from .saved import Turn, panel_style, prompt_html, transcript_bundle
from .turnview import PanelTurnView, TurnSlot, panel_turn_view
from .worker import Worker

__all__ = ["ChatPanel", "NEW_CONVERSATION"]

log = logging.getLogger(__name__)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
NEW_CONVERSATION = "\x00new"
_WAIT_SLICE = 0.25           # seconds per attempt to take a busy conversation's lock (Stop is checked between)
_ERROR = "color: #b22"


@dataclass
class _Entry:
    """One finished turn in the message list."""

    key: tuple[Any, ...] | None      # record_key once matched with the conversation's record
    widget: Any
    turn: Turn

    def close(self) -> None:
        close_widget(self.widget)


class ChatPanel:
    """A chat panel bound to a session (default: the kernel's) and one of its conversations at a time."""

    def __init__(self, session: KernelSession | None = None, *, conversation: str = "", model: str | None = None,
                 system: str | None = None, think: str | int | None = None, effort: str | None = None,
                 max_tokens: int | None = None, tools: tuple[str, ...] | None = None,
                 thinking_open: bool = False, height: str = "480px", shell: Any = None,
                 engine: str | None = None) -> None:
        import ipywidgets

        self.session: KernelSession = session or current_session()
        self.id = uuid.uuid4().hex[:10]
        self.conversation_name = conversation
        self.options: dict[str, Any] = {"system": system, "think": think, "effort": effort,
                                        "max_tokens": max_tokens, "tools": tools, "engine": engine}
        self.thinking_open = thinking_open
        self.side: Any = None                               # a side.SideArea when shown in the side area
        self.shell = shell if shell is not None else _current_shell()
        self.runner = MainThreadRunner.for_kernel(self.shell)
        self.last_result: TurnResult | None = None
        self.live_view: PanelTurnView | None = None      # the running turn's view (worker thread)
        self.error: str | None = None
        self.busy = False
        self._cancellation: Cancellation | None = None
        self._entries: dict[str, _Entry] = {}
        self._pending: Any = None
        self._turns: list[Turn] = []
        self._transcript_key: tuple[Any, ...] | None = None
        self._displayed = False
        self._updating = False
        self._closed = False
        self._lock = threading.Lock()

        widgets = ipywidgets
        self.title = widgets.HTML()
        self.model = widgets.Dropdown(options=model_options(self.session.settings, model),
                                      value=resolve_model(model or self.session.settings.model,
                                                          self.session.settings.aliases),
                                      description="Model", style={"description_width": "initial"},
                                      layout=widgets.Layout(width="auto"))
        self.conversations = widgets.Dropdown(options=self._conversation_options(), value=conversation,
                                              description="Chat", style={"description_width": "initial"},
                                              layout=widgets.Layout(width="auto"))
        # flex 0 0 auto: the list keeps its full height inside the scroller instead of shrinking to it
        self.messages = widgets.VBox([], layout=widgets.Layout(flex="0 0 auto"))
        self.messages.add_class("claude-magic-messages")
        self.messages.add_class("claude-magic-stretch")
        # A single child in a column-reverse scroller: the view starts at, and stays pinned to, the bottom.
        scroller = widgets.Box([self.messages], layout=widgets.Layout(
            display="flex", flex_flow="column-reverse", overflow="hidden auto", max_height=height, min_height="3em"))
        self.consent = ConsentBox()
        self.input = widgets.Textarea(placeholder="Message Claude — Shift+Enter or Ctrl+Enter sends",
                                      rows=3, continuous_update=True, layout=widgets.Layout(width="100%"))
        self.input.add_class("claude-magic-input")
        self.send_button = widgets.Button(description="Send", button_style="primary", icon="paper-plane",
                                          tooltip="Send (Shift+Enter)")
        self.send_button.add_class("claude-magic-send")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True,
                                          tooltip="Stop the answer (keeps what arrived)")
        self.stop_button.add_class("claude-magic-stop")
        self.status = widgets.HTML()
        self.status.add_class("claude-magic-status")
        style = widgets.HTML(panel_style(self.id), layout=widgets.Layout(display="none"))
        selectors = widgets.HBox([self.model, self.conversations])
        header = widgets.HBox([self.title, selectors],
                              layout=widgets.Layout(justify_content="space-between", align_items="center",
                                                    flex_flow="row wrap"))
        controls = widgets.HBox([self.send_button, self.stop_button, self.status],
                                layout=widgets.Layout(align_items="center"))
        self.widget = widgets.VBox(
            [header, scroller, self.consent.widget, self.input, controls, style],
            layout=widgets.Layout(border="1px solid rgba(128, 128, 128, 0.4)", padding="0.4em 0.6em"))
        self.widget.add_class("claude-magic-panel")
        self._own_widgets = [self.title, self.model, self.conversations, self.messages, scroller, self.input,
                             self.send_button, self.stop_button, self.status, style, selectors, header, controls, self.widget]

        self.send_button.on_click(lambda _button: self._send_from_input())
        self.stop_button.on_click(lambda _button: self.stop())
        self.input.observe(self._on_input, names="value")
        self.conversations.observe(self._on_conversation, names="value")
        self.worker = Worker(self._show_internal_error, name=f"claude-chat-{self.id}")
        self.session.listeners.append(self._on_turn_finished)
        if self.shell is not None:
            self.shell.events.register("post_run_cell", self._on_cell_done)
        self.worker.submit(self._refresh)

    def __repr__(self) -> str:
        label = repr(self.conversation_name) if self.conversation_name else "default"
        return f"<ChatPanel {self.id} conversation={label} busy={self.busy}>"

    # --- display ----------------------------------------------------------------------------------

    def _ipython_display_(self) -> None:
        if self.side is not None:           # in JupyterLab's side area (side.py), the cell keeps a note
            self.side.show()
            return
        self.show_widget()
        self.show_transcript()

    def show_widget(self) -> None:
        """Display the live panel widget."""
        from IPython.display import display

        bundle = {WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id},
                  "text/plain": "Claude chat panel (live while the kernel runs; its transcript is saved below)"}
        display(bundle, raw=True)

    @property
    def closed(self) -> bool:
        return self._closed

    def show_transcript(self) -> None:
        """Display the page's key handler and the saved transcript (hidden while the live panel is on screen)."""
        from IPython.display import Javascript, display

        display(Javascript(KEYS_JS))
        parent = _kernel_parent(self.shell)
        if parent is not None:
            self.worker.submit(lambda: self.shell.display_pub.set_thread_parent(parent))
        self._displayed = True
        data, metadata = transcript_bundle(self.id, self._title_text(), list(self._turns))
        display(data, metadata=metadata, raw=True, display_id=self.display_id)
        self._transcript_key = None
        self.refresh()

    @property
    def display_id(self) -> str:
        """The display id of the saved transcript output."""
        return f"claude-chat-{self.id}"

    # --- public API -------------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Queue a message (as the Send button does, but also while a turn runs: it waits its turn)."""
        if not text.strip():
            raise ClaudeMagicError("The message is empty: write what you want to ask.")
        if self._closed:
            raise ClaudeMagicError("This chat panel is closed: run claude_magic.chat() for a new one.")
        from ..core.early_imports import import_before_threads

        import_before_threads()              # the turn runs on the panel's worker thread
        cancellation = Cancellation()
        with self._lock:
            self.busy = True
            self._cancellation = cancellation
        self.send_button.disabled = True
        self.stop_button.disabled = False
        self.conversations.disabled = True
        self.worker.submit(lambda: self._run_turn(text, cancellation))

    def stop(self) -> None:
        """End the running turn (the partial answer is kept; the conversation stays valid)."""
        with self._lock:
            cancellation = self._cancellation
        if cancellation is not None and not cancellation.cancelled:
            self._set_status("Stopping…")
            cancellation.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until queued turns and redraws are done (not from a cell: the panel may need the main thread)."""
        return self.worker.wait_idle(timeout)

    def refresh(self) -> None:
        """Redraw from the conversation (done automatically after every turn and cell)."""
        self.worker.submit(self._refresh, key="refresh")

    def select(self, conversation: str) -> None:
        """Show another conversation (created if new); queued after a running turn."""
        self.session.conversation(conversation)
        self._switch(conversation)

    def close(self) -> None:
        """Stop the worker, forget the hooks and close the widgets."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        with contextlib.suppress(ValueError):
            self.session.listeners.remove(self._on_turn_finished)
        if self.shell is not None:
            with contextlib.suppress(ValueError):
                self.shell.events.unregister("post_run_cell", self._on_cell_done)
        self.consent.close()
        self.worker.stop()
        for entry in self._entries.values():
            entry.close()
        for widget in self._own_widgets:
            close_widget(widget)

    # --- widget callbacks (main thread) -----------------------------------------------------------

    def _send_from_input(self, text: str | None = None, rest: str = "") -> None:
        message = self.input.value if text is None else text
        if self.busy:
            self._set_status("A turn is running: wait for it, or press Stop.")
            return
        if not message.strip():
            self._set_status("Write a message first.")
            return
        self.input.value = rest
        self.send(message.strip())

    def _on_input(self, change: dict[str, Any]) -> None:
        parts = split_send(change["new"])
        if parts is None:
            return
        text, rest = parts
        if self.busy:
            self.input.value = text + rest
            self._set_status("A turn is running: wait for it, or press Stop.")
            return
        self._send_from_input(text, rest)

    def _on_conversation(self, change: dict[str, Any]) -> None:
        if self._updating:
            return
        name = change["new"]
        if name == NEW_CONVERSATION:
            name = self._new_conversation_name()
            self.session.conversation(name)
            self._updating = True
            try:
                self.conversations.options = self._conversation_options()
                self.conversations.value = name
            finally:
                self._updating = False
        self._switch(name)

    def _switch(self, name: str) -> None:
        def switch() -> None:
            self.conversation_name = name
            self._refresh()

        self.worker.submit(switch)

    def _on_turn_finished(self, event: TurnFinished) -> None:
        """Session listener (any thread): a turn ended somewhere; redraw if it was in this conversation."""
        if event.result.conversation == self.conversation_name:
            self.refresh()

    def _on_cell_done(self, *_args: Any) -> None:
        """After every cell (`%claude reset`, `load`, `pop` ... change conversations without a turn)."""
        self.refresh()

    # --- the worker -------------------------------------------------------------------------------

    def _run_turn(self, prompt: str, cancellation: Cancellation) -> None:
        """One turn: draw the prompt, stream the answer into the list, redraw from the conversation."""
        name = self.conversation_name
        self._set_status("")
        self.error = None
        try:
            settings, options = turn_settings(self.session.settings, model=self.model.value, chat=name,
                                              **self.options)
            self._pending = self._pending_entry(prompt)
            self._show_list()
            view = self.live_view = panel_turn_view(TurnSlot(self._mount_live, self._finish_live),
                                                  thinking_open=self.thinking_open,
                                                  stream=self.session.view_options.stream_widget)
            context = ToolContext(approver=self.consent.approver(cancellation),
                                  run_on_main_thread=self.runner.bound(cancellation) if self.runner else None)
            result = self._ask(prompt, settings, options, view, cancellation, context)
            if result is not None:
                self.last_result = result
                self._report(result, prompt, stopped=cancellation.cancelled)
        except ClaudeMagicError as error:
            self._fail(str(error), prompt)
        finally:
            pending, self._pending, self.live_view = self._pending, None, None
            with self._lock:
                self.busy = False
                self._cancellation = None
        try:
            self._refresh()
        finally:
            self.send_button.disabled = False
            self.stop_button.disabled = True
            self.conversations.disabled = False
            if pending is not None:
                close_widget(pending)

    def _ask(self, prompt: str, settings: Any, options: Any, view: PanelTurnView, cancellation: Cancellation,
             context: ToolContext) -> TurnResult | None:
        """`Session.ask`, waiting (Stop-able) while a cell or another thread holds the conversation."""
        for attempt in itertools.count():
            if cancellation.cancelled:
                self._fail("Stopped before the turn started; nothing was sent.", prompt)
                return None
            try:
                return self.session.ask(prompt, settings=settings, options=options, emit=view,
                                        cancellation=cancellation, wait=_WAIT_SLICE, tool_context=context)
            except ConversationBusy:
                if attempt == 0:
                    self._set_status("Waiting for the turn running in this conversation (a cell or another "
                                     "thread) to finish… Stop cancels.")
        return None

    def _report(self, result: TurnResult, prompt: str, *, stopped: bool = False) -> None:
        """The turn's outcome in the status line; a turn that left no trace gives the message back to the input."""
        if not result.content and result.status != "complete" and not self.input.value.strip():
            self.input.value = prompt
        if stopped or result.status == "interrupted":
            self._set_status("Stopped: the partial answer was kept." if result.content else
                             "Stopped before Claude answered: nothing was added to the conversation.")
        elif result.error:
            self.error = result.error
            self._set_status(f"⚠ {result.error}", error=True)
        else:
            self._set_status("")

    def _fail(self, message: str, prompt: str) -> None:
        """A turn that could not run: one line, and the message goes back to the input box."""
        self.error = message
        self._set_status(f"⚠ {message}", error=True)
        if not self.input.value.strip():
            self.input.value = prompt

    def _pending_entry(self, prompt: str) -> Any:
        import ipywidgets

        pending = ipywidgets.VBox([_entry_widget(prompt_html(prompt))])
        pending.add_class("claude-magic-stretch")
        return pending

    def _mount_live(self, root: Any) -> None:
        """The live view's widgets go under the pending prompt (worker thread)."""
        if self._pending is not None:
            self._pending.children = (*self._pending.children, root)

    def _finish_live(self, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        """The live view's final bundle replaces its widgets (worker thread, then the widgets close)."""

        pending = self._pending
        turn_id = (metadata.get("claude_magic") or {}).get("turn_id")
        prompt = pending.children[0] if pending is not None else None
        turn = Turn(prompt="", html=data.get("text/html", ""), markdown=data.get("text/plain", ""),
                    provenance=dict(metadata.get("claude_magic") or {}))
        widget = _entry_widget((prompt.value if prompt is not None else "") + turn.html)
        if pending is not None:
            pending.children = (widget,)
            if prompt is not None:
                close_widget(prompt)
        if turn_id:
            self._entries[turn_id] = _Entry(None, widget, turn)

    def _refresh(self) -> None:
        """Bring the list, the header, the selector and the saved transcript up to date with the conversation."""
        if self._closed:
            return
        name = self.conversation_name
        conversation = self.session.conversations.get(name)
        records = turn_records(conversation) if conversation is not None else []
        seen: set[str] = set()
        turns: list[Turn] = []
        for record, messages in records:
            key = record_key(record)
            entry = self._entries.get(record.id)
            if entry is None or (entry.key is not None and entry.key != key):
                if entry is not None:
                    entry.close()
                entry = self._entries[record.id] = self._history_entry(record, messages, name)
            elif entry.key is None:
                entry.turn = Turn(record.prompt, entry.turn.html, entry.turn.markdown, _source(record),
                                  entry.turn.provenance)
            entry.key = key
            seen.add(record.id)
            turns.append(entry.turn)
        for stale in [turn_id for turn_id in self._entries if turn_id not in seen]:
            self._entries.pop(stale).close()
        self._turns = turns
        self._show_list([self._entries[record.id].widget for record, _ in records])
        self._update_title([record for record, _ in records])
        self._update_conversations()
        self._update_transcript(turns, (name, *(record_key(record) for record, _ in records)))

    def _history_entry(self, record: Any, messages: list[dict[str, Any]], name: str) -> _Entry:
        """A turn the panel did not draw live (a cell's, the Python API's, or loaded from a file)."""

        transcript = turn_transcript(record, messages, name)
        turn = Turn(record.prompt, static_html(transcript, thinking_open=self.thinking_open),
                    transcript_markdown(transcript), _source(record),
                    output_metadata(transcript).get("claude_magic", {}))
        widget = _entry_widget(prompt_html(turn.prompt, turn.source) + turn.html)
        return _Entry(record_key(record), widget, turn)

    def _show_list(self, widgets: list[Any] | None = None) -> None:
        if widgets is None:
            widgets = [child for child in self.messages.children if child is not self._pending]
        children = tuple(widgets) + ((self._pending,) if self._pending is not None else ())
        if children != self.messages.children:
            self.messages.children = children

    def _update_title(self, records: list[Any]) -> None:
        cost = sum(record.cost or 0.0 for record in records)
        tokens = sum(record.usage.total_input_tokens + record.usage.output_tokens for record in records)
        label = f"“{self.conversation_name}”" if self.conversation_name else "default conversation"
        pieces = [f"{len(records)} turn{'' if len(records) == 1 else 's'}"]
        if records:
            pieces += [f"{tokens:,} tokens", f"${cost:.4f}"]
        value = (f"<b>Claude</b> <span style=\"{MUTED}\">· {html.escape(label)} · {' · '.join(pieces)}</span>")
        if self.title.value != value:
            self.title.value = value

    def _update_conversations(self) -> None:
        options = self._conversation_options()
        if tuple(options) == tuple(self.conversations.options) and self.conversations.value == self.conversation_name:
            return
        self._updating = True
        try:
            self.conversations.options = options
            self.conversations.value = self.conversation_name
        finally:
            self._updating = False

    def _update_transcript(self, turns: list[Turn], key: tuple[Any, ...]) -> None:
        if not self._displayed or key == self._transcript_key:
            return
        from IPython.display import update_display

        self._transcript_key = key
        data, metadata = transcript_bundle(self.id, self._title_text(), turns)
        update_display(data, metadata=metadata, raw=True, display_id=self.display_id)

    def _title_text(self) -> str:
        name = f"“{self.conversation_name}”" if self.conversation_name else "default conversation"
        return f"Chat with Claude · {name}"

    # --- helpers ----------------------------------------------------------------------------------

    def _conversation_values(self) -> list[str]:
        names = list(self.session.conversations)
        if "" not in names:
            names.insert(0, "")
        if self.conversation_name not in names:
            names.append(self.conversation_name)
        return names

    def _conversation_options(self) -> list[tuple[str, str]]:
        options = [("(default)" if name == "" else name, name) for name in self._conversation_values()]
        return options + [("＋ new chat", NEW_CONVERSATION)]

    def _new_conversation_name(self) -> str:
        for number in itertools.count(2):
            name = f"chat-{number}"
            if name not in self.session.conversations:
                return name
        raise AssertionError("unreachable")

    def _set_status(self, text: str, *, error: bool = False) -> None:
        line = " ".join(text.split())          # one line, whatever the message
        value = f'<span style="{_ERROR if error else MUTED}">{html.escape(line)}</span>' if line else ""
        if self.status.value != value:
            self.status.value = value

    def _show_internal_error(self, error: BaseException) -> None:
        """A bug in a worker job: one line in the panel (the traceback is in the kernel's log)."""
        self.error = f"Internal error: {type(error).__name__}: {error}"
        self._set_status(f"⚠ {self.error} (details in the kernel log)", error=True)


def model_options(settings: Any, extra: str | None = None) -> list[tuple[str, str]]:
    """Dropdown (label, model id) pairs: the session's model, the aliases, and `extra` if given."""
    aliases = {**ALIASES, **(settings.aliases or {})}
    options: dict[str, str] = {}
    for name in (settings.model, extra):
        if name:
            model = resolve_model(name, settings.aliases)
            options.setdefault(model, f"{name} · {model}" if name != model else model)
    for alias, model in aliases.items():
        label = f"{alias} · {model}"
        if options.get(model) == model:
            options[model] = label
        options.setdefault(model, label)
    return [(label, model) for model, label in options.items()]


def _entry_widget(value: str) -> Any:
    """A finished turn (or a prompt) in the list: sanitized HTML with math typeset, full width."""
    import ipywidgets

    widget = ipywidgets.HTMLMath(value)
    widget.add_class("claude-magic-entry")
    widget.add_class("claude-magic-stretch")
    return widget


def _source(record: Any) -> str:
    return "cell" if record.cell_id else ""


def _current_shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _kernel_parent(shell: Any) -> dict[str, Any] | None:
    """The request being executed (the cell showing the panel), for outputs sent from the worker."""
    kernel = getattr(shell, "kernel", None)
    display_pub = getattr(shell, "display_pub", None)
    if kernel is None or not hasattr(display_pub, "set_thread_parent"):
        return None
    parent = kernel.get_parent()
    return parent if parent and parent.get("header") else None
