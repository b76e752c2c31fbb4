"""render.py: Markdown features come out as HTML, math is left for MathJax, and model HTML is inert."""

from __future__ import annotations

import html as html_text
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_magic.views.render import code_block, escape, highlight, render_markdown, sanitize

from .helpers import XSS, XSS_TEXT, assert_inert

pytestmark = pytest.mark.usefixtures("markdown_renderer")


def test_markdown_features() -> None:
    html = render_markdown("# Title\n\n- one\n- two\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n**bold** `x < y`\n")
    assert "<h1>Title</h1>" in html
    assert "<li>one</li>" in html
    assert "<table>" in html and 'style="text-align: right"' in html and 'style="text-align: left"' in html
    assert "<strong>bold</strong>" in html and "<code>x &lt; y</code>" in html


def test_fenced_code_is_highlighted_with_inline_styles() -> None:
    html = render_markdown("```python\ndef f(x):\n    return x < 2  # note\n```\n")
    assert "<pre" in html and 'style="color:' in html
    assert "language-python" not in html        # replaced by the highlighted block
    assert "&lt;" in html and "def" in html
    assert_inert(html)


def test_unknown_language_and_plain_code_stay_escaped() -> None:
    html = render_markdown("```nosuchlanguage\n<b>not bold</b>\n```\n\n```\na < b\n```\n")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "a &lt; b" in html


def test_math_is_left_intact_for_mathjax() -> None:
    html = render_markdown("Inline $x_1 * y_2 * z$ and $$\\sum_{i<n} a_i^2$$ and \\(a_b\\) end.")
    assert "$x_1 * y_2 * z$" in html
    assert "$$\\sum_{i&lt;n} a_i^2$$" in html
    assert "\\(a_b\\)" in html
    assert "<em>" not in html


def test_display_math_block_keeps_its_lines() -> None:
    html = render_markdown("Before\n\n$$\na_1 = b_2\n\nc_3 = d_4\n$$\n\nAfter")
    assert "a_1 = b_2\n\nc_3 = d_4" in html
    assert "<em>" not in html


def test_dollars_inside_code_are_not_math() -> None:
    html = render_markdown("Use `$HOME` and\n\n```bash\necho $PATH $x_1$\n```\n")
    assert "<code>$HOME</code>" in html
    assert "$PATH" in html and "cmmath" not in html


def test_prices_are_not_math() -> None:
    html = render_markdown("It costs $5 and $10 today.")
    dollar = '<span class="tex2jax_ignore mathjax_ignore">$</span>'
    assert f"It costs {dollar}5 and {dollar}10 today." in html          # more in test_mathguard.py


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_are_inert(payload: str) -> None:
    html = render_markdown(f"Before\n\n{payload}\n\nAfter {payload} inline")
    assert_inert(html)


def test_tags_whose_content_would_be_dropped_are_shown_as_text() -> None:
    html = render_markdown("Put it in a <style> tag or a <script> tag, then go on.\n\nNext paragraph.")
    assert "&lt;style&gt; tag" in html and "&lt;script&gt; tag" in html
    assert "Next paragraph." in html


def test_xss_answer_keeps_the_text_around_it() -> None:
    html = render_markdown(XSS_TEXT)
    assert_inert(html)
    assert "Answer start." in html


def test_links_keep_safe_urls_only() -> None:
    html = render_markdown("[ok](https://example.com/a?b=1) [rel](/api/contents) [mail](mailto:a@b.c)")
    assert 'href="https://example.com/a?b=1"' in html
    assert 'href="mailto:a@b.c"' in html
    assert "/api/contents" not in html           # relative URLs would point into the Jupyter server
    assert 'rel="noopener noreferrer nofollow"' in html


def test_images_are_not_loaded() -> None:
    html = render_markdown("![tracker](https://example.com/pixel.png?secret=1)")
    assert "<img" not in html


def test_sanitize_and_escape() -> None:
    assert sanitize('<p onclick="x()">hi</p>') == "<p>hi</p>"
    assert escape("<a & b>") == "&lt;a &amp; b&gt;"


def test_code_block_highlights_or_escapes() -> None:
    assert 'style="color:' in code_block("x = 1", "python")
    assert "&lt;script&gt;" in code_block("<script>", None)
    assert highlight("x", "no-such-language") is None


def test_highlighted_code_is_inert_though_highlighted_after_sanitizing() -> None:
    fenced = "```python\nx = '</code></pre><script>alert(1)</script><img src=x onerror=alert(2)>'\n```\n"
    raw = '<pre><code class="language-python">&lt;script&gt;alert(3)&lt;/script&gt;</code></pre>\n'
    html = render_markdown(fenced + "\n" + raw)
    assert_inert(html)
    assert html.count('<pre style="background:') == 2           # both were highlighted
    shown = html_text.unescape(re.sub(r"<[^>]+>", "", html))          # what the page shows: the code, as text
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>" in shown and "<script>alert(3)</script>" in shown


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list("<>\"'`$*_&;:=/()[]! \n#-|abc") + [
    "script", "onerror", "javascript", "img", "src", "href", "svg", "onload", "style", "iframe", "```", "$$",
    "```python\n", '<pre><code class="language-python">', "</code></pre>", "&lt;", "&amp;",
]), max_size=80))
def test_any_text_renders_inert(pieces: list[str]) -> None:
    assert_inert(render_markdown("".join(pieces)))


def test_the_fastest_installed_renderer_is_the_default(markdown_renderer: str) -> None:
    from claude_magic.views import render

    installed = render.available_renderers()
    assert installed[-1] == "python-markdown"
    render.set_renderer(None)
    try:
        assert render.renderer() == installed[0]
        with pytest.raises(ValueError, match="not installed"):
            render.set_renderer("no-such-renderer")
    finally:
        render.set_renderer(markdown_renderer)
