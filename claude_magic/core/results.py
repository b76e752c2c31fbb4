"""The result of a turn as seen from Python: text, SDK messages, usage, cost, status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .usage import Usage

__all__ = ["TurnResult", "STATUS_MARKERS", "RICH_REPRS"]

# How a result's answer shows in rich front ends, by MIME type (text/markdown, text/html): the views set these
# (`claude_magic.views.result_display`); until then a result shows as its repr.
RICH_REPRS: dict[str, Callable[[str], str]] = {}

STATUS_MARKERS = {
    "interrupted": "⚠ Interrupted — the answer above is incomplete.",
    "cut_off": "⚠ Cut off — the answer above is incomplete (see the error below).",
    "error": "⚠ The request failed (see the error below).",
    "max_steps": "⚠ Stopped at the step limit.",
}


@dataclass
class TurnResult:
    """What a `%%claude` cell or `claude_magic.ask()` produced.

    `status` is complete, interrupted, cut_off, error or max_steps; `error` holds the one-line message.
    """

    turn_id: str
    model: str
    conversation: str
    content: list[dict[str, Any]] = field(default_factory=list)   # every assistant block of the turn
    messages: list[Any] = field(default_factory=list)             # SDK `Message` of each step
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    stop_reason: str | None = None
    status: str = "complete"
    error: str | None = None
    duration: float = 0.0
    steps: int = 0
    retries: int = 0
    output: Any = None                                            # the validated structured answer (`output=` / --schema)
    output_error: str | None = None                               # why the answer did not fit the schema (one line)
    engine: str = "api"                                           # which engine answered: api, claude-code
    credential: str = ""                                          # secret-free label of the credential used
    request_hash: str = ""                                        # sha256 of what was sent (the replay key)
    replayed: bool = False                                        # replayed from the recording: no request
    answered_at: float | None = None                              # epoch seconds the answer was asked for
    recorded: Any = None                                          # replayed: the recording's `TurnRecord`
    context_tokens: int = 0                                       # what the last request filled of the context window
    context_window: int = 0                                       # the model's window (0: not known)

    @property
    def text(self) -> str:
        """The answer's text blocks joined."""
        return "\n\n".join(block["text"] for block in self.content if block.get("type") == "text")

    @property
    def thinking(self) -> str:
        """The returned (summarized) thinking, joined."""
        return "\n\n".join(block.get("thinking", "") for block in self.content if block.get("type") == "thinking")

    @property
    def message(self) -> Any:
        """The SDK `Message` of the last API call (None if none arrived)."""
        return self.messages[-1] if self.messages else None

    @property
    def ok(self) -> bool:
        return self.status == "complete"

    @property
    def marker(self) -> str:
        """A short note for views when the turn did not complete ("" when it did)."""
        return STATUS_MARKERS.get(self.status, "")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        preview = self.text[:60].replace("\n", " ")
        return f"<TurnResult {self.status} {self.model} {self.usage.output_tokens} out: {preview!r}>"

    def _repr_markdown_(self) -> str | None:
        render = RICH_REPRS.get("text/markdown")
        return render(self.text) if render is not None else None

    def _repr_html_(self) -> str | None:
        """The answer as sanitized HTML (JupyterLab shows this: its Markdown renderer takes money for math)."""
        render = RICH_REPRS.get("text/html")
        return render(self.text) if render is not None else None
