"""Shared by the view tests: hand-built turns (events as the agent emits them) and an HTML safety check."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from claude_magic.core.events import (
    BlockFinished,
    BlockStarted,
    ConsentRequested,
    Event,
    Notice,
    StepFinished,
    StepStarted,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolInputDelta,
    TurnFinished,
    TurnStarted,
)
from claude_magic.core.results import TurnResult
from claude_magic.core.usage import Usage
from claude_magic.views.render import ALLOWED_TAGS

XSS = [
    "<img src=x onerror=\"window.__xss=1\">",
    "<script>window.__xss=2</script>",
    "[click me](javascript:window.__xss=3)",
    "<a href=\"javascript:window.__xss=4\">link</a>",
    "<b onmouseover=\"window.__xss=5\">hover</b>",
    "<svg onload=\"window.__xss=6\"></svg>",
    "<iframe src=\"javascript:window.__xss=7\"></iframe>",
    "<div style=\"position:fixed;top:0\" onclick=\"window.__xss=8\">overlay</div>",
    "<a href=\"data:text/html,<script>window.__xss=9</script>\">data</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=10>",
]
XSS_TEXT = "Answer start.\n\n" + "\n\n".join(XSS) + "\n\nAnswer end."
# Our own markup adds these (a spinner in the live header; tool figures we build from checked base64).
OWN_TAGS = {"style", "img"}


class _Checker(HTMLParser):
    def __init__(self, allowed: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler {name} on <{tag}>")
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                scheme = (value or "").strip().lower().split(":", 1)[0]
                data_image = tag == "img" and (value or "").startswith("data:image/")
                if ":" in (value or "") and scheme not in ("http", "https", "mailto") and not data_image:
                    self.problems.append(f"{name}={value!r} on <{tag}>")
            if name == "style" and value and any(bad in value.lower() for bad in ("position", "url(", "expression")):
                self.problems.append(f"style {value!r}")


def assert_inert(html: str, *, own: bool = False) -> None:
    """No tag outside the allowlist, no event handler, no script-capable URL, no positioning styles."""
    checker = _Checker(set(ALLOWED_TAGS) | (OWN_TAGS if own else set()))
    checker.feed(html)
    checker.close()
    assert not checker.problems, (checker.problems, html[:2000])
    assert "<script" not in html.lower()


def result(*, status: str = "complete", error: str | None = None, model: str = "claude-sonnet-4-5",
           content: list[dict[str, Any]] | None = None) -> TurnResult:
    return TurnResult(turn_id="turn1", model=model, conversation="", content=content or [],
                      usage=Usage(input_tokens=12, output_tokens=345, cache_read_input_tokens=100),
                      cost=0.0123, stop_reason="end_turn" if status == "complete" else None, status=status,
                      error=error, duration=1.5, steps=1)


def chunks(value: str, size: int) -> list[str]:
    return [value[i:i + size] for i in range(0, len(value), size)]


def text_turn(text: str, *, thinking: str = "", size: int = 7, model: str = "claude-sonnet-4-5") -> list[Event]:
    """Events of a turn with an optional thinking block then one text block, in deltas of `size`."""
    events: list[Event] = [TurnStarted("turn1", model, "", "prompt"), StepStarted(0)]
    index = 0
    if thinking:
        events.append(BlockStarted(0, 0, "thinking", {"type": "thinking", "thinking": "", "signature": ""}))
        events += [ThinkingDelta(0, 0, piece) for piece in chunks(thinking, size)]
        events.append(BlockFinished(0, 0, {"type": "thinking", "thinking": thinking, "signature": "sig"}))
        index = 1
    events.append(BlockStarted(0, index, "text", {"type": "text", "text": ""}))
    events += [TextDelta(0, index, piece) for piece in chunks(text, size)]
    events.append(BlockFinished(0, index, {"type": "text", "text": text}))
    events.append(StepFinished(0, "end_turn", Usage(output_tokens=10)))
    events.append(TurnFinished(result(model=model)))
    return events


def tool_turn(name: str = "run_python", arguments: dict[str, Any] | None = None, output: str = "42",
              status: str = "done", display: tuple[Any, ...] = ()) -> list[Event]:
    """A step that calls one tool (input streamed), the call's life, then a short answer."""
    import json

    arguments = arguments if arguments is not None else {"code": "print(6 * 7)"}
    raw = json.dumps(arguments)
    block = {"type": "tool_use", "id": "toolu_1", "name": name, "input": arguments}
    return [
        TurnStarted("turn1", "claude-sonnet-4-5", "", "prompt"), StepStarted(0),
        BlockStarted(0, 0, "tool_use", {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}),
        *[ToolInputDelta(0, 0, piece) for piece in chunks(raw, 5)],
        BlockFinished(0, 0, block),
        StepFinished(0, "tool_use", Usage(output_tokens=10)),
        ToolCallStarted("toolu_1", name, arguments),
        ConsentRequested("toolu_1", name, arguments),
        ToolCallStarted("toolu_1", name, arguments),
        ToolCallFinished("toolu_1", name, status, output, status != "done", 0.25, display),
        StepStarted(1),
        BlockStarted(1, 0, "text", {"type": "text", "text": ""}),
        TextDelta(1, 0, "The answer is **42**."),
        BlockFinished(1, 0, {"type": "text", "text": "The answer is **42**."}),
        Notice("A retry was made.", "info"),
        StepFinished(1, "end_turn", Usage(output_tokens=5)),
        TurnFinished(result()),
    ]


# --- how MathJax finds math in HTML (JupyterLab's MathJax 3 and nbconvert's MathJax 2 alike): each element's
# text is its own string, <code>/<pre> and the ignore classes are skipped, `\\$` is a literal dollar, and any
# two `$` of one string make math.
_SKIP = {"code", "pre", "script", "style", "textarea"}
_IGNORE = {"tex2jax_ignore", "mathjax_ignore"}
_MATHJAX = re.compile(r"\\\$|\$\$(?:[^\\]|\\.)+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|\$(?:[^$\\]|\\.)+?\$", re.S)


class _Strings(HTMLParser):
    """The text strings MathJax would search, element by element, and all the text a reader sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = [""]
        self.text = ""
        self._stack: list[bool] = []          # per open element: is MathJax skipping it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "hr", "input", "wbr"):
            return
        classes = set((dict(attrs).get("class") or "").split())
        skipped = bool(self._stack and self._stack[-1]) or tag in _SKIP or bool(classes & _IGNORE)
        self._stack.append(skipped)
        self.strings.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._stack and tag not in ("br", "img", "hr", "input", "wbr"):
            self._stack.pop()
        self.strings.append("")

    def handle_data(self, data: str) -> None:
        self.text += data
        if not (self._stack and self._stack[-1]):
            self.strings[-1] += data


def strings(fragment: str) -> _Strings:
    parser = _Strings()
    parser.feed(fragment)
    parser.close()
    return parser


def typeset(fragment: str) -> list[str]:
    """The math MathJax would typeset in this HTML."""
    found = []
    for string in strings(fragment).strings:
        found += [match.group(0) for match in _MATHJAX.finditer(string) if match.group(0) != "\\$"]
    return found


def visible(fragment: str) -> str:
    return strings(fragment).text
