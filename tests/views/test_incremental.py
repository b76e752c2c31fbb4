"""incremental.py: settled segments render once, their HTML equals rendering the whole text, tails re-render."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_magic.views.incremental import IncrementalMarkdown
from claude_magic.views.render import render_markdown

pytestmark = pytest.mark.usefixtures("markdown_renderer")

BLOCKS = [
    "A paragraph with **bold**, `code` and $x_1^2$.\n\n",
    "## A heading\n\n",
    "- tight item one\n- tight item two\n\n",
    "1. first\n\n2. second after a blank line\n\n   continued inside the item\n\n",
    "```python\ndef f():\n\n    return 1  # a blank line above, inside the fence\n```\n\n",
    "~~~\nplain ``` fence inside tilde\n\n~~~\n\n",
    "| a | b |\n|---|---|\n| 1 | $y_2$ |\n\n",
    "$$\na_1 = b_2\n\nc_3\n$$\n\n",
    "> a quote\n\n",
    "    indented code after a blank line\n\n",
    "Line one\nline two of the same paragraph\n\n",
]


def normalized(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def feed(text: str, cuts: list[int], markdown: IncrementalMarkdown) -> list[str]:
    """Feed growing prefixes at the cut points (tails rendered each time); return the settled HTML."""
    settled: list[str] = []
    for cut in sorted(set(cuts)):
        settled += markdown.update(text[:cut])
        markdown.tail()
    settled += markdown.finish(text)
    return settled


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=12), st.data())
def test_segments_render_like_the_whole_text(blocks: list[str], data: st.DataObject) -> None:
    text = "".join(blocks)
    cuts = data.draw(st.lists(st.integers(1, len(text)), max_size=30))
    markdown = IncrementalMarkdown()
    settled = feed(text, cuts, markdown)
    assert normalized("".join(settled)) == normalized(render_markdown(text))
    assert markdown.html == "".join(settled)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=12), st.data())
def test_every_settled_character_is_rendered_exactly_once(blocks: list[str], data: st.DataObject) -> None:
    text = "".join(blocks)
    cuts = data.draw(st.lists(st.integers(1, len(text)), max_size=30))
    sources: list[str] = []

    def counting(source: str) -> str:
        sources.append(source)
        return render_markdown(source)

    markdown = IncrementalMarkdown(render=counting)
    for cut in sorted(set(cuts)):
        markdown.update(text[:cut])          # no tail renders: only settling renders
    markdown.finish(text)
    assert "".join(sources) == text


def test_a_fence_with_blank_lines_never_splits_and_an_open_fence_renders_as_code() -> None:
    text = "Intro\n\n```python\nx = 1\n\n\ny = 2\n"
    markdown = IncrementalMarkdown()
    assert markdown.update(text) == [render_markdown("Intro\n\n")]
    assert markdown.pending_text.startswith("```python")
    tail = markdown.tail()
    assert "<pre" in tail and "```" not in tail
    markdown.update(text + "```\n\nAfter\n")
    assert "<pre" in markdown.html and "After" not in markdown.html    # "After" is the new growing tail


def test_tail_is_cached_until_the_text_grows() -> None:
    calls: list[str] = []

    def counting(source: str) -> str:
        calls.append(source)
        return render_markdown(source)

    markdown = IncrementalMarkdown(render=counting)
    markdown.update("growing para")
    markdown.tail()
    markdown.tail()
    assert calls == ["growing para"]
    markdown.update("growing paragraph")
    markdown.tail()
    assert calls[-1] == "growing paragraph"


def test_settled_work_is_linear_in_the_text() -> None:
    text = "".join(BLOCKS) * 40
    markdown = IncrementalMarkdown()
    for cut in range(200, len(text), 200):
        markdown.update(text[:cut])
    markdown.finish(text)
    assert markdown.rendered_chars == len(text)
