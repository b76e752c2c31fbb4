"""stream_widget.py and stream_view.py: only new HTML travels, and a page rebuilds exactly the kernel's document."""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_magic.core.events import TurnFinished
from claude_magic.views.static import static_html
from claude_magic.views.stream_view import StreamView
from claude_magic.views.stream_widget import TAIL, StreamDocument, js_length

from .helpers import XSS_TEXT, assert_inert, text_turn, tool_turn
from .stream_page import PageMirror

TEXT_DIV = '<div class="claude-magic-text">'


def open_widgets() -> list[Any]:
    module = sys.modules.get("ipywidgets.widgets.widget")
    return list(module._instances.values()) if module is not None else []


class RecordingView(StreamView):
    """A StreamView that also hands every message it sends to a page mirror (and keeps them)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page = PageMirror()
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        self.held: list[str] = []           # every HTML string the page held, after each message

    def _send(self, message: dict[str, Any], buffers: list[bytes]) -> None:
        super()._send(message, buffers)
        self.sent.append((message, buffers))
        self.page.receive(message, buffers)
        self.held += [block.html for block in self.page.blocks]


def feed(view: StreamView, events: list[Any], *, last: bool = True) -> None:
    for event in events if last else events[:-1]:
        view(event)


def text_block_html(static: str) -> str:
    """The inside of the first text block of a static output."""
    start = static.index(TEXT_DIV) + len(TEXT_DIV)
    return static[start:static.index("</div>", start)]


def test_js_length_counts_utf16_code_units() -> None:
    assert js_length("abc") == 3
    assert js_length("é") == 1
    assert js_length("🙂") == 2               # outside the BMP: a surrogate pair in JavaScript
    assert js_length("a🙂b") == 4


pieces = st.lists(st.tuples(st.text(alphabet="ab<>/\"é🙂 ", max_size=12), st.booleans(), st.integers(0, 6)),
                  max_size=25)


@settings(max_examples=150, deadline=None)
@given(pieces, st.booleans())
def test_a_page_rebuilds_the_document_from_the_messages_alone(steps: list[tuple[str, bool, int]],
                                                             compress: bool) -> None:
    document = StreamDocument(compress=compress)
    page = PageMirror()
    document.add(f"<div>{TAIL}</div>")
    second = document.add(TAIL)
    open_ = ""
    for text, seal, cut in steps:
        open_ = open_[:max(0, len(open_) - cut)] + text            # tails change, not only grow
        if seal:
            document.set(0, open_, "")
            open_ = ""
        else:
            document.set(0, "", open_)
        document.set(second, "", text)
        taken = document.take()
        if taken is not None:
            page.receive(*taken)
        assert [block.html for block in page.blocks] == [document.html(0), document.html(second)]
    assert not page.asked


def test_each_character_travels_about_once() -> None:
    document = StreamDocument(compress=False)
    document.add(TAIL)
    text = ""
    sent = 0
    for number in range(200):
        text += f"<p>word {number}</p>"
        if number % 10 == 9:
            document.set(0, text, "")
            text = ""
        else:
            document.set(0, "", text)
        message, _buffers = document.take()
        sent += sum(len(update[2]) for update in message.get("u", []))
    assert sent == len(document.html(0))           # nothing was sent twice: sealing moves, it does not resend


def test_a_page_that_missed_a_message_asks_for_a_reset_and_catches_up() -> None:
    document = StreamDocument()
    document.add(TAIL)
    late, steady = PageMirror(), PageMirror()
    document.set(0, "", "<p>one</p>")
    first = document.take()
    steady.receive(*first)                          # the late page never saw the first message
    document.set(0, "", "<p>one two</p>")
    second = document.take()
    for page in (late, steady):
        page.receive(*second)
    assert late.asked == [{"sync": 0}] and late.stale
    reset = document.reset()
    for page in (late, steady):
        page.receive(reset)
    document.set(0, "<p>one two three</p>", "<p>tail</p>")
    third = document.take()                         # deflated in the new stream the reset started
    for page in (late, steady):
        page.receive(*third)
        assert [block.html for block in page.blocks] == [document.html(0)] == ["<p>one two three</p><p>tail</p>"]


def test_the_page_shows_the_same_text_html_as_the_saved_output(shell: Any) -> None:
    view = RecordingView(interval=0, shell=shell)
    answer = "## Title\n\nSome *text* with `code`.\n\n" + "A paragraph of words. " * 40 + "\n\n- one\n- two\n\nThe end."
    events = text_turn(answer, thinking="Thinking *hard*.", size=9)
    feed(view, events, last=False)
    view.pacer.paint(force=True)                    # everything has finished: the last paint before the swap
    thinking, text = view.page.blocks[1], view.page.blocks[2]
    assert thinking.label == "Thinking" and "<em>hard</em>" in thinking.html
    assert text.open == "" and text.frame == f"{TEXT_DIV}{TAIL}</div>"
    view(events[-1])
    static = shell.display_pub.outputs[-1]["data"]["text/html"]
    assert text.html == text_block_html(static)
    assert static == static_html(view.transcript, {id(part): view._cards[id(part)].html
                                                   for part in view.transcript.parts})


def test_hostile_answers_never_reach_the_page_unsanitized(shell: Any) -> None:
    view = RecordingView(interval=0, shell=shell)
    feed(view, text_turn(XSS_TEXT, thinking=XSS_TEXT, size=3))
    assert view.sent and any("Answer start." in html for html in view.held)
    for html in view.held + [frame for block in view.page.blocks for frame in [block.frame]]:
        assert_inert(html, own=True)


def test_the_turn_ends_static_with_its_widget_closed(shell: Any) -> None:
    before = len(open_widgets())
    view = RecordingView(interval=0, shell=shell)
    feed(view, text_turn("Hello **there**.", size=4))
    outputs = shell.display_pub.outputs
    assert len(outputs) == 2 and outputs[-1]["update"]
    assert outputs[0]["transient"]["display_id"] == outputs[-1]["transient"]["display_id"]
    assert "<strong>there</strong>" in outputs[-1]["data"]["text/html"]
    assert view.widget.comm is None and len(open_widgets()) == before
    sent = len(view.sent)
    view(TurnFinished(view.transcript.result))      # nothing more is sent once the turn is over
    assert len(view.sent) == sent


def test_tool_cards_and_notes_stream_as_html_blocks(shell: Any) -> None:
    view = RecordingView(interval=0, shell=shell)
    events = tool_turn()
    feed(view, events, last=False)
    view.pacer.paint(force=True)
    shown = [block.html for block in view.page.blocks]
    assert any("run_python" in html and "done" in html for html in shown)
    assert any("The answer is <strong>42</strong>." in html for html in shown)
    assert any("A retry was made." in html for html in shown)
    view(events[-1])
    assert view.widget.comm is None


def test_a_sync_request_from_the_page_gets_the_whole_document(shell: Any) -> None:
    view = RecordingView(interval=3600, shell=shell)
    events = text_turn("First paragraph.\n\nSecond paragraph.", size=5)
    feed(view, events[:6])
    view.pacer.paint(force=True)
    late = PageMirror()
    view.widget._handle_custom_msg({"sync": 0}, [])     # what ipywidgets calls for the page's model.send
    reset = [message for message, _buffers in view.sent if "r" in message]
    assert len(reset) == 1
    late.receive(reset[0])
    assert [block.html for block in late.blocks] == [block.html for block in view.page.blocks]
    feed(view, events[6:], last=False)
    view.pacer.paint(force=True)
    message, buffers = view.sent[-1]
    late.receive(message, buffers)
    assert [block.html for block in late.blocks] == [block.html for block in view.page.blocks]
    view(events[-1])
