"""Raw stream events folded into the message, in time linear in the answer.

The SDK's `messages.stream()` helper rebuilds a snapshot on every event: it appends each text fragment to
an immutable string (quadratic in the answer's length), re-parses a tool call's whole JSON input on every
fragment, and builds a helper event object per fragment. Measured on a 200k-character answer in 25k
fragments, that is two thirds of the SDK's CPU time. So turns read the plain event stream
(`messages.create(stream=True)`, the SDK's own parsing and types) and fold it here: fragments go into lists
joined once, a tool input is parsed once when its block ends, and the SDK `Message` is built once per step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

__all__ = ["MessageAccumulator", "ToolInputError", "block_to_param"]


class ToolInputError(ValueError):
    """The model's JSON for a tool call's input did not parse (the SDK raises the same on its own path)."""


def block_to_param(block: Any) -> dict[str, Any]:
    """An SDK content block as the dict that goes back to the API unchanged."""
    data = block.to_dict(exclude_none=True) if hasattr(block, "to_dict") else dict(block)
    data.pop("parsed_output", None)
    return data


# Usage fields a `message_delta` overrides when it has them (the SDK helper's list).
_CUMULATIVE = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "server_tool_use",
               "output_tokens_details")
# The field each text fragment type grows (the fragment carries it under the same name).
_GROWS = {"text_delta": "text", "thinking_delta": "thinking"}


class _Block:
    """One content block as it arrives: its start form, and fragments still to join."""

    __slots__ = ("data", "field", "pieces", "json", "finished")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.field = ""                  # which text field the pieces extend
        self.pieces: list[str] = []
        self.json: list[str] = []        # a tool call's input, as streamed
        self.finished = False

    def _joined(self) -> str:
        """The text field so far: the start form's text and the fragments, joined once (in place: a
        stream keeps appending to the same list, see `MessageAccumulator.text_sink`)."""
        if len(self.pieces) > 1:
            self.pieces[:] = ["".join(self.pieces)]
        return self.data.get(self.field, "") + (self.pieces[0] if self.pieces else "")

    def _input(self, partial: bool) -> Any:
        """The tool input parsed by jiter, the SDK's own JSON parser (`partial`: as far as it is valid)."""
        from jiter import from_json

        return from_json("".join(self.json).encode(), partial_mode=partial)

    def param(self) -> dict[str, Any]:
        """The block so far; a tool input still streaming is parsed as far as it is valid JSON."""
        data = dict(self.data)
        if self.pieces:
            data[self.field] = self._joined()
        if self.json:
            with contextlib.suppress(ValueError):
                data["input"] = self._input(partial=True)
        return data

    def finish(self) -> dict[str, Any]:
        """Join the fragments and parse the input: the complete block."""
        if self.pieces:
            self.data[self.field] = self._joined()
            self.pieces.clear()
        if self.json and "".join(self.json).strip():
            try:
                self.data["input"] = self._input(partial=False)
            except ValueError as error:
                raise ToolInputError(f"Unable to parse tool parameter JSON from model: {error}. "
                                     "Please retry your request or adjust your prompt.") from None
        self.json = []
        self.finished = True
        return self.data


class MessageAccumulator:
    """Folds raw stream events into the message; `add` returns what the views need to know."""

    def __init__(self) -> None:
        self.message: dict[str, Any] | None = None      # message_start's message, without content
        self.blocks: list[_Block] = []
        self.started = False
        self.complete = False
        self.iterations: list[Any] = []                  # `usage.iterations` (a compaction's own tokens)
        self.context_management: dict[str, Any] | None = None   # the applied edits of a context-managed request

    def start(self, event: Any) -> None:
        """`message_start`."""
        self.started = True
        self.message = event.message.to_dict()
        self.message["content"] = []
        self.blocks = [_Block(block_to_param(block)) for block in event.message.content]

    def open_block(self, event: Any) -> dict[str, Any]:
        """`content_block_start`: returns the block's start form."""
        block = _Block(block_to_param(event.content_block))
        while len(self.blocks) < event.index:
            self.blocks.append(_Block({"type": "text", "text": ""}))
        if event.index < len(self.blocks):
            self.blocks[event.index] = block
        else:
            self.blocks.append(block)
        return block.data

    def grow(self, index: int, delta: Any) -> None:
        """A `content_block_delta` other than text/thinking (those are the hot path: `add_text`)."""
        block = self.blocks[index]
        kind = delta.type
        if kind == "input_json_delta":
            block.json.append(delta.partial_json)
        elif kind == "signature_delta":
            block.data["signature"] = delta.signature
        elif kind == "citations_delta":
            block.data.setdefault("citations", []).append(block_to_param(delta.citation))
        elif kind == "compaction_delta":             # replaces the summary (as the SDK's beta stream does)
            for name in ("content", "encrypted_content"):
                block.data[name] = getattr(delta, name, None)
        elif kind in _GROWS:
            self.add_text(index, _GROWS[kind], getattr(delta, _GROWS[kind]))

    def add_text(self, index: int, field: str, text: str) -> None:
        """A text or thinking fragment."""
        self.text_sink(index, field)(text)

    def text_sink(self, index: int, field: str) -> Callable[[str], None]:
        """What takes block `index`'s text or thinking fragments (the hot path: a bound list append, valid
        until the block is opened again or finished)."""
        block = self.blocks[index]
        block.field = field
        return block.pieces.append

    def close_block(self, index: int) -> dict[str, Any]:
        """`content_block_stop`: the complete block."""
        return self.blocks[index].finish()

    def update(self, event: Any) -> None:
        """`message_delta`: stop reason and cumulative usage (fields it omits keep their start values)."""
        if self.message is None:
            return
        delta = event.delta
        for name in ("stop_reason", "stop_sequence", "stop_details"):
            if hasattr(delta, name):
                self.message[name] = getattr(delta, name)
        if getattr(delta, "container", None) is not None:
            self.message["container"] = block_to_param(delta.container)
        managed = getattr(event, "context_management", None)       # the beta stream's applied edits
        if managed is not None:
            self.context_management = managed.to_dict() if hasattr(managed, "to_dict") else managed
        usage = self.message.setdefault("usage", {})
        usage["output_tokens"] = event.usage.output_tokens
        iterations = getattr(event.usage, "iterations", None)     # kept apart: the SDK's message has no such field
        if iterations is not None:
            self.iterations = [item.to_dict() if hasattr(item, "to_dict") else item for item in iterations]
        for name in _CUMULATIVE:
            value = getattr(event.usage, name, None)
            if value is not None:
                usage[name] = value.to_dict() if hasattr(value, "to_dict") else value

    def content(self) -> list[tuple[dict[str, Any], bool]]:
        """Every block so far with whether it finished (partial text joined)."""
        return [(block.data if block.finished else block.param(), block.finished) for block in self.blocks]

    def snapshot(self, content: list[dict[str, Any]] | None = None) -> Any:
        """The SDK `Message` as far as it arrived (None before `message_start`), with `content` if given."""
        if self.message is None:
            return None
        from anthropic.types import Message

        if content is None:
            content = [block for block, _done in self.content()]
        return Message.construct(**{**self.message, "content": content})
