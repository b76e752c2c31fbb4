"""static.py: the saved bundle — sanitized HTML (thinking as <details>), Markdown, plain text, metadata."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest
from nbconvert import HTMLExporter

from claude_magic.core.events import BlockFinished, BlockStarted, Event, Notice, TurnFinished
from claude_magic.tools.bundles import MimeBundle
from claude_magic.views.static import static_bundle, static_html
from claude_magic.views.transcript import Transcript

from .helpers import XSS, XSS_TEXT, assert_inert, result, text_turn, tool_turn

pytestmark = pytest.mark.usefixtures("markdown_renderer")

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def folded(events: list[Event]) -> Transcript:
    transcript = Transcript()
    for event in events:
        transcript.apply(event)
    return transcript


def test_bundle_has_html_markdown_plain_and_metadata() -> None:
    data, metadata = static_bundle(folded(text_turn("Hello **world**", thinking="Let me think.")))
    assert set(data) == {"text/html", "text/markdown", "text/plain"}
    assert "<strong>world</strong>" in data["text/html"]
    assert "Hello **world**" in data["text/plain"]
    assert data["text/markdown"] == data["text/plain"].replace("$0.0123", "\\$0.0123")      # the footer's cost
    assert "\\" not in data["text/plain"]
    info = metadata["claude_magic"]
    assert info["model"] == "claude-sonnet-4-5"
    assert info["usage"]["output_tokens"] == 345 and info["usage"]["cache_read_input_tokens"] == 100
    assert info["cost"] == pytest.approx(0.0123) and info["status"] == "complete"


def test_thinking_is_a_details_section_closed_by_default() -> None:
    transcript = folded(text_turn("Answer", thinking="Private *reasoning*"))
    closed = static_html(transcript)
    assert '<details class="claude-magic-thinking">' in closed
    assert "<em>reasoning</em>" in closed
    assert closed.index("reasoning") < closed.index("Answer")
    assert '<details class="claude-magic-thinking" open>' in static_html(transcript, thinking_open=True)


def test_footer_and_error_lines() -> None:
    events = text_turn("Partial")
    events[-1] = TurnFinished(result(status="interrupted", error="Interrupted by the user (Ctrl-C)."))
    html = static_html(folded(events))
    assert "Interrupted — the answer above is incomplete." in html
    assert "345 out" in html and "claude-sonnet-4-5" in html


def test_tool_card_shows_name_state_duration_arguments_result_and_rich_output() -> None:
    figure = MimeBundle({"image/png": PNG, "text/plain": "<Figure>"}, {}, "figure")
    html = static_html(folded(tool_turn(display=(figure, {"text/html": "<b>table</b><script>x()</script>"}))))
    assert "run_python" in html and "done" in html and "0.25 s" in html
    assert "print" in html and 'style="color:' in html            # the code argument, highlighted
    assert "<details><summary" in html and "42" in html
    assert f'src="data:image/png;base64,{PNG}"' in html
    assert "<b>table</b>" in html
    assert_inert(html, own=True)


def test_other_blocks_render_something_sensible() -> None:
    transcript = Transcript()
    blocks: list[dict[str, Any]] = [
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "jupyter <b>"}},
        {"type": "web_search_tool_result", "tool_use_id": "s1", "content": [
            {"type": "web_search_result", "url": "https://jupyter.org", "title": "Jupyter <i>"},
            {"type": "web_search_result", "url": "javascript:alert(1)", "title": "bad"}]},
        {"type": "compaction", "content": "summary"},
        {"type": "fallback", "from": {"model": "claude-opus-4-7"}, "to": {"model": "claude-sonnet-4-5"},
         "trigger": {"type": "refusal"}},
        {"type": "future_block", "text": "Said by a *future* block."},
        {"type": "brand_new_block", "weird": [1, 2]},
        {"type": "text", "text": "Cited.", "citations": [{"type": "web_search_result_location",
                                                        "url": "https://example.com", "title": "Example"}]},
    ]
    for index, block in enumerate(blocks):
        transcript.apply(BlockStarted(0, index, block["type"], block))
        transcript.apply(BlockFinished(0, index, block))
    transcript.apply(TurnFinished(result()))
    html = static_html(transcript)
    assert "redacted" in html and "Web search" in html and "jupyter &lt;b&gt;" in html
    assert 'href="https://jupyter.org"' in html and "Jupyter &lt;i&gt;" in html
    assert "compacted" in html and "brand_new_block" in html and "<em>future</em>" in html
    assert "Answered by claude-sonnet-4-5 instead of claude-opus-4-7 after a refusal." in html
    assert "<b>Sources</b>" in html and 'href="https://example.com"' in html and "[1]</a>" in html
    assert "javascript:" not in html
    assert_inert(html)


def test_xss_in_every_field_is_inert() -> None:
    payload = " ".join(XSS)
    events = tool_turn(name=payload, arguments={"code": payload, "other": payload}, output=payload,
                       display=({"text/html": payload, "text/plain": payload},))
    events.insert(-1, Notice(payload, "warning"))
    events[-1] = TurnFinished(result(status="error", error=payload, model=payload))
    html = static_html(folded(events))
    assert_inert(html, own=True)
    answer = static_html(folded(text_turn(XSS_TEXT, thinking=XSS_TEXT)))
    assert_inert(answer)
    assert "Answer start." in answer


def test_nbconvert_html_shows_the_saved_answer(tmp_path: Any) -> None:
    data, metadata = static_bundle(folded(text_turn("The answer is *forty-two*.\n\n" + XSS_TEXT,
                                                    thinking="Hidden reasoning")))
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("%%claude\nquestion")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    notebook.cells.append(cell)
    body, _resources = HTMLExporter().from_notebook_node(notebook)
    assert "The answer is <em>forty-two</em>." in body
    assert "Hidden reasoning" in body and "claude-magic-thinking" in body
    start = body.index('<div class="claude-magic-output">')
    end = body.index("</div></div>", body.index("claude-sonnet-4-5", start))
    assert_inert(body[start:end])


def test_money_in_every_channel_of_the_bundle() -> None:
    answer = "The basic plan costs $5 per month and the pro plan costs $10; $x^2$ is math."
    data, _metadata = static_bundle(folded(text_turn(answer)))
    dollar = '<span class="tex2jax_ignore mathjax_ignore">$</span>'
    assert f"costs {dollar}5 per month and the pro plan costs {dollar}10; $x^2$ is math." in data["text/html"]
    assert f"{dollar}0.0123" in data["text/html"]                                   # the footer
    assert "costs \\$5 per month and the pro plan costs \\$10; $x^2$ is math." in data["text/markdown"]
    assert answer in data["text/plain"] and "\\" not in data["text/plain"]
