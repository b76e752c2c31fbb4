"""One streamed API call: SDK events in, our events out, the (possibly partial) content kept.

The request is the SDK's plain event stream (`messages.create(stream=True)`), folded by `accumulate.py`:
the `messages.stream()` helper costs three times as much CPU on a long answer (see that module).
On the main thread the SDK stream is read directly: it is the fastest path (a thread hand-off per event
cost about 30 % of a long stream), and SIGINT — delivered to the main thread — interrupts a blocked read.
On other threads (chat-panel workers) a small pump thread reads and hands events over, so the worker only
waits in short timed waits and Stop is acted on within ~0.1 s even while the server sends nothing.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

from ..core.answer_scrubbing import scrub_block, shown_block
from ..core.cancellation import Cancellation
from ..core.events import BlockFinished, BlockStarted, Event, TextDelta, ThinkingDelta, ToolInputDelta
from ..core.redaction import BlockScrubbers, Scrubber, scrubber
from ..core.usage import Usage
from .accumulate import MessageAccumulator
from .attempts import attempt_owner, retries_taken

__all__ = ["StepOutcome", "stream_step", "keepable", "compaction_usage", "without_unanswered_server_calls"]

POLL_SECONDS = 0.1


@dataclass
class StepOutcome:
    """What one API call produced."""

    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    message: Any = None                  # the SDK `Message` (final or partial snapshot)
    complete: bool = False               # `message_stop` arrived
    started: bool = False                # `message_start` arrived
    error: BaseException | None = None   # what ended the stream early, if anything
    interrupted: bool = False
    retries: int = 0                     # retries the SDK made before this step's request got through
    context_management: dict[str, Any] | None = None   # the API's `applied_edits`, when it managed the context
    compaction_usage: Usage = field(default_factory=Usage)   # a compaction's own tokens (`usage.iterations`)


def without_unanswered_server_calls(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`content` without the server tool calls (web search, fetch) whose result never came: the API refuses a
    history with one (a stream cut or stopped between the call and its result)."""
    answered = {block.get("tool_use_id") for block in content if str(block.get("type", "")).endswith("_tool_result")}
    return [block for block in content if block.get("type") != "server_tool_use" or block.get("id") in answered]


def keepable(block: dict[str, Any], finished: bool) -> bool:
    """Whether a (possibly partial) block can go back to the API (both engines record turns by this rule)."""
    kind = block.get("type")
    if kind == "text":
        return bool(block.get("text", "").strip())
    if kind == "thinking":
        return finished and bool(block.get("signature"))
    return finished


def compaction_usage(iterations: list[Any]) -> Usage:
    """The tokens of the compactions a response reports in `usage.iterations` (billed, but not in its top level)."""
    total = Usage()
    for item in iterations:
        if isinstance(item, dict) and item.get("type") == "compaction":
            total = total + Usage(input_tokens=item.get("input_tokens") or 0, output_tokens=item.get("output_tokens") or 0,
                                  cache_creation_input_tokens=item.get("cache_creation_input_tokens") or 0,
                                  cache_read_input_tokens=item.get("cache_read_input_tokens") or 0)
    return total


class _Failure:
    """An exception raised on the pump thread, handed to the consumer."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


class _Source:
    """What reads one SDK stream: `stream` once open, `stopped` once Stop or Ctrl-C asked for it."""

    stream: Any = None
    stopped: bool = False

    def stop(self) -> None:
        """Stop reading and close the HTTP response (safe from any thread: a blocked read then fails)."""
        self.stopped = True
        stream = self.stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - the response may already be gone
                return


class _Pump(_Source):
    """Opens the SDK stream and forwards its events to a queue from a daemon thread."""

    def __init__(self, client: Any, params: dict[str, Any]) -> None:
        self.buffer: deque[Any] = deque()      # appended here, popped by the consumer: no lock per event
        self.ready = threading.Event()         # set when the consumer may be waiting for more
        self.stream: Any = None
        self.stopped = False
        self._thread = threading.Thread(target=self._run, args=(client, params), daemon=True,
                                        name="claude-magic-stream")
        self._thread.start()

    def _put(self, item: Any) -> None:
        self.buffer.append(item)
        if not self.ready.is_set():
            self.ready.set()

    def _run(self, client: Any, params: dict[str, Any]) -> None:
        put = self._put
        attempt_owner.pump = self
        try:
            with _create(client, params) as stream:
                self.stream = stream
                if self.stopped:
                    return
                for event in stream:
                    put(event)
                    if self.stopped:
                        return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer thread
            if not self.stopped:
                put(_Failure(error))
        finally:
            attempt_owner.pump = None
            put(_END)

    def join(self, timeout: float = 2.0) -> None:
        self._thread.join(timeout)

    def get(self, timeout: float) -> Any:
        """The next item; raises `queue.Empty` after `timeout` seconds without one."""
        buffer = self.buffer
        if buffer:
            return buffer.popleft()
        self.ready.clear()
        if not buffer and not self.ready.wait(timeout) and not buffer:
            raise queue.Empty
        return buffer.popleft()


class _Inline(_Source):
    """Reads the SDK stream on the calling (main) thread: the fastest path, and Ctrl-C interrupts its reads."""

    def __init__(self, client: Any, params: dict[str, Any]) -> None:
        self.client, self.params = client, params
        self.stream: Any = None
        self.stopped = False

    @contextmanager
    def opened(self) -> Iterator[Any]:
        """The SDK stream, iterated by the caller itself (no generator of ours between it and each event)."""
        attempt_owner.pump = self
        try:
            with _create(self.client, self.params) as stream:
                self.stream = stream
                yield stream
        finally:
            attempt_owner.pump = None

    def join(self, timeout: float = 2.0) -> None:
        return None


def _create(client: Any, params: dict[str, Any]) -> Any:
    """The SDK's event stream: the beta client when the request names betas (context management, compaction)."""
    if "betas" in params:
        return client.beta.messages.create(**params, stream=True)
    return client.messages.create(**params, stream=True)


def _delta_maker(cls: type) -> Callable[[int, int, str], Any]:
    """`cls(step, index, value)` for a frozen slots dataclass of three fields, made ~2x faster.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__` (~0.2 µs a field); this
    sets the same slots through their descriptors. The result is equal to, and indistinguishable from,
    the dataclass's own (`tests/core/test_accumulate.py` checks); it runs once per streamed fragment.
    """
    new = object.__new__
    set_step, set_index, set_value = (cls.__dict__[item.name].__set__ for item in fields(cls))

    def make(step: int, index: int, value: str) -> Any:
        event = new(cls)
        set_step(event, step)
        set_index(event, index)
        set_value(event, value)
        return event

    return make


_text_delta = _delta_maker(TextDelta)
_thinking_delta = _delta_maker(ThinkingDelta)


class _Folder:
    """Turns SDK stream events into our events and folds them into the message (`MessageAccumulator`).

    The hot path is a text or thinking fragment: the block's fragment list and its `StreamScrubber` are bound
    once per block (`text_sink`), so a fragment costs a list append, a scrub and one event. The message keeps
    what the API sent; the events carry it scrubbed of secrets (the views never see one).
    """

    __slots__ = ("step", "emit", "message", "scrub", "_scrubbers", "_text_index", "_text_sink", "_text_shown",
                 "_thinking_index", "_thinking_sink", "_thinking_shown")

    def __init__(self, step: int, emit: Callable[[Event], None], scrub: Scrubber | None = None) -> None:
        self.step, self.emit = step, emit
        self.message = MessageAccumulator()
        self.scrub = scrub if scrub is not None else scrubber()     # the secrets known as the step starts
        self._scrubbers = BlockScrubbers(self.scrub)
        self._unbind()

    def _unbind(self) -> None:
        """Forget the bound fragment lists (a block opened or closed)."""
        self._text_index = self._thinking_index = -1
        self._text_sink: Callable[[str], None] | None = None
        self._thinking_sink: Callable[[str], None] | None = None
        self._text_shown: Callable[[str], str] | None = None
        self._thinking_shown: Callable[[str], str] | None = None

    def _flush(self, index: int) -> None:
        """Pass on what block `index`'s scrubber still holds back (the block ended)."""
        rest = self._scrubbers.rest(index)
        if rest:
            kind = self.message.blocks[index].data.get("type") if index < len(self.message.blocks) else "text"
            delta = {"text": _text_delta, "thinking": _thinking_delta}.get(kind, ToolInputDelta)
            self.emit(delta(self.step, index, rest))

    def flush(self) -> None:
        """The stream ended (cut off, stopped): pass on every held-back end."""
        for index in self._scrubbers.open():
            self._flush(index)

    def __call__(self, event: Any) -> None:
        if event.type == "content_block_delta":          # the hot path: one per fragment
            delta = event.delta
            delta_type = delta.type
            if delta_type == "text_delta":
                text, index = delta.text, event.index
                if index != self._text_index:
                    self._text_sink, self._text_index = self.message.text_sink(index, "text"), index
                    self._text_shown = self._scrubbers.of(index).feed
                self._text_sink(text)                                   # type: ignore[misc]
                shown = self._text_shown(text)                          # type: ignore[misc]
                if shown:
                    self.emit(_text_delta(self.step, index, shown))
            elif delta_type == "thinking_delta":
                thinking, index = delta.thinking, event.index
                if index != self._thinking_index:
                    self._thinking_sink, self._thinking_index = self.message.text_sink(index, "thinking"), index
                    self._thinking_shown = self._scrubbers.of(index).feed
                self._thinking_sink(thinking)                           # type: ignore[misc]
                shown = self._thinking_shown(thinking)                  # type: ignore[misc]
                if shown:
                    self.emit(_thinking_delta(self.step, index, shown))
            else:
                self.message.grow(event.index, delta)
                if delta_type == "input_json_delta":
                    shown = self._scrubbers.of(event.index).feed(delta.partial_json)
                    if shown:
                        self.emit(ToolInputDelta(self.step, event.index, shown))
            return
        kind = event.type
        if kind == "content_block_start":
            self._unbind()
            block = self.message.open_block(event)
            self.emit(BlockStarted(self.step, event.index, block["type"], dict(shown_block(block, self.scrub))))
        elif kind == "content_block_stop":
            self._unbind()
            self._flush(event.index)
            block = self.message.close_block(event.index)
            self.emit(BlockFinished(self.step, event.index, dict(shown_block(block, self.scrub))))
        elif kind == "message_start":
            self._unbind()
            self.message.start(event)
        elif kind == "message_delta":
            self.message.update(event)
        elif kind == "message_stop":
            self.message.complete = True


def stream_step(client: Any, params: dict[str, Any], step: int, emit: Callable[[Event], None],
                cancellation: Cancellation | None = None) -> StepOutcome:
    """Stream one request, emitting events; never raises for API/transport errors or Ctrl-C."""
    outcome = StepOutcome()
    fold = _Folder(step, emit)
    inline = threading.current_thread() is threading.main_thread()
    source: _Inline | _Pump = _Inline(client, params) if inline else _Pump(client, params)
    unregister = cancellation.on_cancel(source.stop) if cancellation is not None else None
    try:
        if isinstance(source, _Inline):
            _consume_inline(source, fold, cancellation, outcome)
        else:
            _consume_pump(source, fold, cancellation, outcome)
    except KeyboardInterrupt:
        outcome.interrupted = True
        source.stop()
    finally:
        if unregister is not None:
            unregister()
    source.join()
    fold.flush()
    outcome.retries = _retries(source.stream, outcome.error)
    message = fold.message
    outcome.complete = message.complete
    scrub = fold.scrub
    snapshot = message.snapshot([shown_block(block, scrub) for block, _finished in message.content()])
    if snapshot is not None:
        outcome.started = True
        outcome.message = snapshot
        outcome.stop_reason = snapshot.stop_reason if outcome.complete else None
        outcome.usage = Usage.from_sdk(snapshot.usage)
        outcome.context_management = message.context_management
        outcome.compaction_usage = compaction_usage(message.iterations)
        outcome.content = [scrub_block(block, scrub) for block, finished in message.content()
                           if keepable(block, finished or outcome.complete)]
        if not outcome.complete:
            outcome.content = without_unanswered_server_calls(outcome.content)
    return outcome


def _consume_inline(source: _Inline, fold: _Folder, cancellation: Cancellation | None,
                    outcome: StepOutcome) -> None:
    """Main thread: iterate the SDK stream directly (a kernel interrupt raises inside the read)."""
    try:
        with source.opened() as stream:
            if cancellation is None:
                for event in stream:
                    fold(event)
            else:
                for event in stream:
                    fold(event)
                    if cancellation.cancelled:
                        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise
    except Exception as error:  # noqa: BLE001 - classified by the caller, content kept
        if cancellation is not None and cancellation.cancelled:
            raise KeyboardInterrupt from None
        outcome.error = error
    if cancellation is not None and cancellation.cancelled:
        raise KeyboardInterrupt  # Stop closed the stream: that ended it, not the server


def _consume_pump(source: _Pump, fold: _Folder, cancellation: Cancellation | None, outcome: StepOutcome) -> None:
    """Other threads (chat panels): the pump reads, this thread waits in short timed waits (Stop acts at once)."""
    get = source.get
    while True:
        try:
            event = get(timeout=POLL_SECONDS)
        except queue.Empty:
            if cancellation is not None and cancellation.cancelled:
                raise KeyboardInterrupt from None
            continue
        if event is _END:
            if cancellation is not None and cancellation.cancelled:
                raise KeyboardInterrupt  # Stop closed the stream: that ended it, not the server
            return
        if isinstance(event, _Failure):
            if cancellation is not None and cancellation.cancelled:
                raise KeyboardInterrupt
            outcome.error = event.error
            return
        fold(event)
        if cancellation is not None and cancellation.cancelled:
            raise KeyboardInterrupt


def _retries(stream: Any, error: BaseException | None) -> int:
    """Retries the SDK made, read from the request that got (or failed to get) the answer."""
    request = getattr(error, "request", None)
    if request is None and stream is not None:
        request = getattr(getattr(stream, "response", None), "request", None)
    return retries_taken(request) if request is not None else 0
