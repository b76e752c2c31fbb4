"""live.py: widgets per block, bounded repaints, thinking open state kept, static output through the same handle."""

from __future__ import annotations

from typing import Any

from claude_magic.core.events import ConsentRequested, Event, TextDelta, ThinkingDelta, TurnFinished
from claude_magic.views.live import WIDGET_MIME, LiveView

from .helpers import XSS_TEXT, assert_inert, text_turn, tool_turn


class Recorder:
    """Every value any widget of the view took, with the index of the event being handled."""

    def __init__(self, view: LiveView) -> None:
        self.view = view
        self.changes: list[tuple[int, int, str]] = []     # (event index, widget id, value)
        self.initial: dict[int, str] = {}
        self._watched: set[int] = set()
        self.event = -1

    def watch(self) -> None:
        factory = self.view._factory
        for widget in factory.created if factory is not None else []:
            if id(widget) in self._watched or not hasattr(widget, "value"):
                continue
            self._watched.add(id(widget))
            self.initial[id(widget)] = widget.value
            widget.observe(self._recorder(id(widget)), names="value")

    def _recorder(self, key: int) -> Any:
        def record(change: dict[str, Any]) -> None:
            self.changes.append((self.event, key, change["new"]))

        return record

    def feed(self, events: list[Event]) -> None:
        for index, event in enumerate(events):
            self.event = index
            self.view(event)
            self.watch()

    def values(self) -> list[str]:
        return list(self.initial.values()) + [value for _event, _key, value in self.changes]


def widgets_of(widget: Any) -> list[Any]:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += widgets_of(child)
    return found


def test_streams_into_widgets_then_leaves_the_static_bundle(shell: Any) -> None:
    view = LiveView(interval=0, shell=shell)
    recorder = Recorder(view)
    recorder.feed(text_turn(XSS_TEXT + "\n\nThe *end*.", thinking="Thinking about $x_1$.", size=5))
    outputs = shell.display_pub.outputs
    assert WIDGET_MIME in outputs[0]["data"] and not outputs[0]["update"]
    final = outputs[-1]
    assert final["update"] and final["transient"]["display_id"] == outputs[0]["transient"]["display_id"]
    assert "<em>end</em>" in final["data"]["text/html"] and "claude-magic-thinking" in final["data"]["text/html"]
    assert final["metadata"]["claude_magic"]["model"] == "claude-sonnet-4-5"
    assert len(outputs) == 2                                  # the live widget, then its replacement
    assert any("Answer start." in value for value in recorder.values())
    for value in recorder.values():
        assert_inert(value, own=True)
    assert_inert(final["data"]["text/html"])
    assert view._factory is not None and view._factory.created == []      # every widget closed


def test_finished_blocks_are_never_repainted(shell: Any) -> None:
    view = LiveView(interval=0, shell=shell)
    recorder = Recorder(view)
    events = text_turn("Answer paragraph one.\n\nParagraph two.\n\n" * 120, thinking="Reasoning. " * 50, size=4)
    finished_at = next(index for index, event in enumerate(events)
                       if type(event).__name__ == "BlockFinished")
    recorder.feed(events[:-1])
    thinking = view._cards[id(view.transcript.parts[0])]
    keys = {id(widget) for widget in widgets_of(thinking.widget)}
    late = [change for change in recorder.changes if change[1] in keys and change[0] > finished_at]
    assert late == []
    text_card = view._cards[id(view.transcript.parts[1])]
    sealed = [widget for widget in text_card.block.widget.children[:-1]]
    assert sealed, "a long block moves settled HTML into sealed widgets"
    for widget in sealed:
        assert all(key != id(widget) for _event, key, _value in recorder.changes)   # sent once, at creation
    view(events[-1])


def test_deltas_are_coalesced_and_flushed_at_block_end(shell: Any) -> None:
    view = LiveView(interval=3600, shell=shell)
    events = text_turn("word " * 2000, size=3)
    for event in events[:-1]:
        view(event)
    text_card = view._cards[id(view.transcript.parts[0])]
    assert view.pacer.paints <= 3
    assert "word word" in text_card.block.tail.value                 # flushed when the block finished
    view(events[-1])


def test_opened_thinking_stays_open_while_it_streams(shell: Any) -> None:
    view = LiveView(interval=0, shell=shell)
    events = text_turn("Answer.", thinking="step " * 200, size=10)
    start = next(index for index, event in enumerate(events) if isinstance(event, ThinkingDelta))
    for event in events[:start + 5]:
        view(event)
    accordion = view._cards[id(view.transcript.parts[0])].widget
    assert accordion.selected_index is None                 # collapsed by default
    accordion.selected_index = 0                            # the user opens it in the front end
    for event in events[start + 5:-1]:
        view(event)
    assert accordion.selected_index == 0
    assert accordion.titles == ("Thinking",)
    view(events[-1])


def test_thinking_can_start_open(shell: Any) -> None:
    view = LiveView(interval=0, shell=shell, thinking_open=True)
    events = text_turn("Answer.", thinking="Reasoning.")
    for event in events[:-1]:
        view(event)
    assert view._cards[id(view.transcript.parts[0])].widget.selected_index == 0
    view(events[-1])
    assert "<details class=\"claude-magic-thinking\" open>" in shell.display_pub.outputs[-1]["data"]["text/html"]


def test_tool_card_shows_each_state_as_it_happens(shell: Any) -> None:
    view = LiveView(interval=3600, shell=shell)
    titles = []
    for event in tool_turn():
        view(event)
        if isinstance(event, ConsentRequested):
            card = view._cards[id(view.transcript.parts[0])]
            titles.append(card.title.value)
            assert "print" in card.arguments.value
    assert "waiting for consent" in titles[0]
    html = shell.display_pub.outputs[-1]["data"]["text/html"]
    assert "run_python" in html and "done" in html and "The answer is <strong>42</strong>." in html


def test_nothing_is_shown_before_the_first_event(shell: Any) -> None:
    LiveView(shell=shell)
    assert shell.display_pub.outputs == []


def test_a_cell_that_ends_without_turn_finished_still_gets_a_static_output(shell: Any) -> None:
    view = LiveView(interval=0, shell=shell)
    for event in text_turn("Half an answer")[:-2]:
        view(event)
    assert view._cell_done in shell.events.callbacks["post_run_cell"]
    view._cell_done()
    final = shell.display_pub.outputs[-1]
    assert final["update"] and "Half an answer" in final["data"]["text/html"]
    assert "ended before it finished" in final["data"]["text/html"]
    assert view._cell_done not in shell.events.callbacks["post_run_cell"]
    view(TextDelta(0, 0, "late"))                          # ignored once finished
    assert shell.display_pub.outputs[-1] is final


def test_turn_finished_alone_shows_the_static_output(shell: Any) -> None:
    view = LiveView(shell=shell)
    events = text_turn("x")
    view(events[-1] if isinstance(events[-1], TurnFinished) else events[0])
    assert "text/html" in shell.display_pub.outputs[-1]["data"]


def test_fragments_appended_while_another_thread_paints_are_never_lost(shell: Any) -> None:
    """Deltas take no lock; the stall watcher paints from its own thread meanwhile: every character arrives."""
    from claude_magic.views.transcript import Part

    part = Part(kind="text")
    pieces = [f"{index:05d}," for index in range(60_000)]
    seen: list[int] = []

    def read() -> None:
        while len(seen) < 2000 and not done.is_set():
            seen.append(len(part.text))

    import threading

    done = threading.Event()
    reader = threading.Thread(target=read)
    reader.start()
    for piece in pieces:
        part.chunks.append(piece)
    done.set()
    reader.join()
    assert part.text == "".join(pieces)
    assert seen == sorted(seen)                          # a reader only ever sees the text grow

    view = LiveView(interval=0.001, shell=shell)         # the watcher thread paints every millisecond
    text = "".join(f"Sentence {index} of the answer.\n\n" for index in range(3000))
    events = text_turn(text, size=3)
    for event in events:
        view(event)
    assert view.pacer.paints > 1
    final = shell.display_pub.outputs[-1]["data"]
    assert final["text/markdown"].count("Sentence") == 3000
    assert "Sentence 2999 of the answer." in final["text/html"]
