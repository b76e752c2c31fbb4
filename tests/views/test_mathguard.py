"""mathguard.py: Pandoc's dollar rule, and what each channel (HTML, Markdown, plain text) makes of a money `$`.

`typeset` (helpers.py) models how MathJax finds math in HTML; tests/browser/test_currency.py checks the real thing.
"""

from __future__ import annotations

import html
import re

import cmarkgfm
import mistune
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_magic.views.mathguard import DOLLAR_HTML, markdown_dollars, text_html
from claude_magic.views.render import markdown_bundle, render_markdown

from .helpers import assert_inert, typeset, visible

pytestmark = pytest.mark.usefixtures("markdown_renderer")

MONEY = [
    "The basic plan costs $5 per month and the pro plan costs $10.",
    "A range: $5-$10, or $5–$10.",
    "$5 and $10",
    "$20,000 and $30,000 won't parse as math.",
    "It is $ 5 or 5 $ or $ x$ or $x $.",
    "Escaped \\$5 and \\$10 are dollars.",
    "Price list:\n\n- tea $2\n- cake $4.50\n",
    "| item | cost |\n|---|---|\n| a | $1 |\n| b | $2 |\n",
]
MATH = [
    ("$x^2$", "$x^2$"),
    ("$$a$$", "$$a$$"),
    ("\\(a\\)", "\\(a\\)"),
    ("\\[a\\]", "\\[a\\]"),
    ("$x_1 * y_2$", "$x_1 * y_2$"),
    ("$a \\$ b$", "$a \\$ b$"),
]


@pytest.mark.parametrize("text", MONEY)
def test_money_is_never_typeset_and_reads_as_written(text: str) -> None:
    fragment = render_markdown(text)
    assert typeset(fragment) == []
    assert "\\" not in visible(fragment)
    shown = " ".join(visible(fragment).split())
    for price in re.findall(r"\$[\d,.]+", text):
        assert price in shown
    assert fragment.count(DOLLAR_HTML) == text.count("$")


@pytest.mark.parametrize(("text", "math"), MATH)
def test_math_is_typeset(text: str, math: str) -> None:
    fragment = render_markdown(f"Before {text} after.")
    assert typeset(fragment) == [math]
    assert DOLLAR_HTML not in fragment


def test_money_and_math_in_one_sentence() -> None:
    fragment = render_markdown("It costs $5, and $x^2$ grows; the pro plan is $10.")
    assert typeset(fragment) == ["$x^2$"]
    assert fragment.count(DOLLAR_HTML) == 2


def test_code_spans_and_fenced_code_are_untouched() -> None:
    text = "Run `echo $HOME $PATH` then\n\n```bash\nprice=$5; total=$10\n```\n\nand `$x$`."
    fragment = render_markdown(text)
    assert "<code>echo $HOME $PATH</code>" in fragment and "<code>$x$</code>" in fragment
    assert "price=$5; total=$10" in visible(fragment)
    assert DOLLAR_HTML not in fragment and typeset(fragment) == []
    assert markdown_dollars(text) == text


def test_markdown_channel_escapes_only_money() -> None:
    assert markdown_dollars("costs $5 and $10, $x^2$, $$a$$, \\(b\\)") == \
        "costs \\$5 and \\$10, $x^2$, $$a$$, \\(b\\)"
    assert markdown_dollars("already \\$5") == "already \\$5"
    assert markdown_dollars("no dollars") == "no dollars"


def test_money_in_link_addresses_and_titles_stays_attribute_text() -> None:
    fragment = render_markdown('[a $5 link](https://example.com/$5?x=$x$ "costs $5") and $10.')
    assert 'href="https://example.com/$5?x=$x$"' in fragment and 'title="costs $5"' in fragment
    assert fragment.count(DOLLAR_HTML) == 2                      # the link text's and the sentence's
    assert typeset(fragment) == []
    assert_inert(fragment)


def test_math_in_an_address_cannot_break_out_of_the_attribute() -> None:
    fragment = render_markdown('[a](http://x/$"onclick="window.__xss=1$) and <span title="$5">b</span>')
    assert_inert(fragment)
    assert "onclick=" not in fragment.replace("&quot;onclick=&quot;", "")


def test_plain_text_html_never_makes_math() -> None:
    fragment = text_html("Costs $5 & <b>$10</b> · $x^2$")
    assert typeset(fragment) == [] and visible(fragment) == "Costs $5 & <b>$10</b> · $x^2$"
    assert "<b>" not in fragment


def test_markdown_bundle_channels() -> None:
    bundle = markdown_bundle("| cost |\n|---|\n| $0.0051 |\n\nIt costs $5 per month and $10, see $x^2$.")
    assert typeset(bundle["text/html"]) == ["$x^2$"]
    assert "\\$0.0051" in bundle["text/markdown"] and "\\$5" in bundle["text/markdown"]
    assert "\\" not in bundle["text/plain"] and "$0.0051" in bundle["text/plain"]


# --- properties ---------------------------------------------------------------------------------------------

prices = st.builds(lambda whole, cents: f"${whole:,}" + (f".{cents:02d}" if cents is not None else ""),
                   st.integers(0, 10**7), st.one_of(st.none(), st.integers(0, 99)))
words = st.sampled_from(["the", "plan", "costs", "per", "month", "and", "or", "-", "to", "x", "a", "is", "(", ")",
                         ",", ".", "each", "about"])
maths = st.sampled_from(["$x^2$", "$a_b$", "$\\alpha$", "$$\\sum_i x_i$$", "\\(y\\)", "$f(x)$"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(prices, words), min_size=1, max_size=30), st.sampled_from([" ", "", "-", "\n"]))
def test_any_sentence_of_prices_has_no_math(pieces: list[str], glue: str) -> None:
    text = glue.join(pieces)
    fragment = render_markdown(text)
    assert typeset(fragment) == []
    assert fragment.count(DOLLAR_HTML) == text.count("$")
    assert "\\" not in visible(fragment)
    escaped = markdown_dollars(text)
    assert escaped.replace("\\$", "$") == text
    # A plain CommonMark renderer (GitHub's kind, nbconvert's mistune) shows each price, with no backslash.
    for rendered in (cmarkgfm.github_flavored_markdown_to_html(escaped), mistune.html(escaped)):
        shown = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split())
        assert "\\" not in shown
        assert all(piece in shown for piece in pieces if piece.startswith("$"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(prices, words, maths), min_size=1, max_size=30))
def test_prices_and_math_mixed(pieces: list[str]) -> None:
    text = " ".join(pieces)
    fragment = render_markdown(text)
    assert typeset(fragment) == [piece for piece in pieces if piece.startswith(("$x", "$a", "$\\", "$$", "\\(", "$f"))]
    assert fragment.count(DOLLAR_HTML) == sum(piece.startswith("$") and piece[1:2].isdigit() for piece in pieces)
    escaped = markdown_dollars(text)
    assert markdown_dollars(escaped) == escaped                 # idempotent


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("$\\`*_ x5\n-(){}[]<>|~")), max_size=60))
def test_arbitrary_dollar_soup_is_safe(text: str) -> None:
    fragment = render_markdown(text)
    assert_inert(fragment)
    assert "cmmath" not in fragment
    for math in typeset(fragment):                              # anything typeset was math by the rule
        assert math.startswith(("$$", "\\(", "\\[")) or (math[1:2].strip() and math[-2:-1].strip())
    assert markdown_dollars(markdown_dollars(text)) == markdown_dollars(text)
    assert visible(text_html(text)) == text


_PIECES = st.lists(st.sampled_from([
    "$", "$$", "\\$", "\\\\", "\\(", "\\)", "\\[", "\\]", "\\begin{eq}", "\\end{eq}", "`", "```", "~~~", "``",
    " ", "  ", "   ", "    ", "\n", "\n\n", "x", "5", "a_1", "<", "</", "<b>", "<style>", "<https://a.b>", "*",
]), max_size=60)


@settings(max_examples=400, deadline=None)
@given(_PIECES)
def test_the_scan_finds_what_the_regex_finds(pieces: list[str]) -> None:
    from claude_magic.views.mathguard import scanner

    text = "".join(pieces)
    for scan in (scanner(), scanner(r"|(?P<raw><(?=/?[a-zA-Z]))", lead="<")):
        def mark(match: re.Match[str]) -> str:
            return f"[{match.lastgroup}:{match.group(0)}]"

        assert scan.sub(mark, text) == scan.pattern.sub(mark, text)
        assert [m.span() for m in scan.finditer(text)] == [m.span() for m in scan.pattern.finditer(text)]


def test_the_scan_finds_indented_fences_at_their_line_start() -> None:
    from claude_magic.views.mathguard import scanner

    scan = scanner()
    text = "a $x$ b\n   ```\n$5 and $6\n   ```\n  `$7` and $8\n"
    assert [m.group(0) for m in scan.finditer(text)] == [m.group(0) for m in scan.pattern.finditer(text)]
    assert any(m.group(0).startswith("   ```") for m in scan.finditer(text))
