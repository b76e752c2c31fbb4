"""lexing.py: combined states give exactly Pygments' own tokens, on real source and on hostile fragments."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import RegexLexer
from pygments.lexers import get_lexer_by_name

from claude_magic.views import lexing
from claude_magic.views.render import highlight

# Languages models write most, each with the corpus found on this machine (stdlib and site-packages files).
SITE = Path(sysconfig.get_paths()["purelib"])
STDLIB = Path(sysconfig.get_paths()["stdlib"])
CORPORA = {
    "python": sorted(STDLIB.glob("*.py"))[:40],
    "javascript": sorted(SITE.glob("**/*.js"))[:15],
    "html": sorted(SITE.glob("**/*.html"))[:15],
    "css": sorted(SITE.glob("**/*.css"))[:15],
    "sql": [],
    "bash": sorted(STDLIB.glob("**/*.sh"))[:10],
    "markdown": sorted(SITE.glob("**/*.md"))[:15],
    "toml": sorted(SITE.glob("**/*.toml"))[:10],
    "ini": sorted(SITE.glob("**/*.cfg"))[:10],
}
LIMIT = 60_000          # characters of each file: the test checks states, not throughput


def tokens(lexer: object, text: str) -> list[tuple[int, object, str]]:
    return list(lexer.get_tokens_unprocessed(text))      # type: ignore[attr-defined]


def pair(language: str) -> tuple[object, object]:
    """(Pygments' own lexer, the same lexer accelerated)."""
    own = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    fast = lexing.accelerate(get_lexer_by_name(language, stripnl=False, ensurenl=False))
    return own, fast


@pytest.mark.parametrize("language", sorted(CORPORA))
def test_combined_states_give_pygments_own_tokens_on_real_files(language: str) -> None:
    own, fast = pair(language)
    assert "get_tokens_unprocessed" in vars(fast), f"{language}: no state was combined"
    texts = [path.read_text(encoding="utf-8", errors="replace")[:LIMIT] for path in CORPORA[language]]
    texts.append(SAMPLES.get(language, ""))
    for text in texts:
        assert tokens(fast, text) == tokens(own, text)


SAMPLES = {
    "python": 'async def f(x: int = 0x1F, *a, **k) -> "str":\n    """doc"""\n    return f"{x!r:>{10}} {{}}" + r\'\\d\' '
              "if x else b'\\x00'  # c\n@decorator\nclass C(Base, metaclass=M): match = 1\nmatch x:\n    case [1, *_]: pass\n",
    "sql": "SELECT a, COUNT(*) FROM t WHERE b = 'it''s' AND c IN (1, 2) -- note\nGROUP BY a; /* block */",
    "bash": 'for f in *.py; do echo "$f ${f%.py}" $(( 1 + 2 )); done\ncat <<EOF\nhere $HOME\nEOF\n',
    "javascript": "const f = async (a, {b = 1} = {}) => { return `x ${a + b}` / 2; }; // c\nlet r = /a[b]+/g; class A extends B {}\n",
    "html": '<!DOCTYPE html><html><head><style>p { color: red }</style><script>var x = "</p>";</script></head>'
            '<body class="a" onload=f()><!-- c --><p>&amp; text</p></body></html>\n',
    "css": "@media (max-width: 600px) { .a > b:hover::after, #id[data-x='1'] { color: #fff !important; } }\n",
    "markdown": "# Title\n\nSome *em* and **strong** `code`, [a link](http://x).\n\n```python\nx = 1\n```\n\n- item\n> quote\n",
    "toml": '[tool.x]\nname = "a" # c\nlist = [1, 2.5, true]\n[[array]]\ndate = 1979-05-27T07:32:00Z\n',
    "ini": "[section]\nkey = value ; comment\n# other\nname: x\n",
}
FRAGMENTS = st.lists(st.sampled_from([
    "def ", "class ", "f'", "f\"", "'''", '"""', "'", '"', "{", "}", "(", ")", "[", "]", "\\", "\n", " ", "\t",
    "#", "x", "1", "0x", ".", "=", ":", "@", "r'", "b'", "<", ">", "</", "/*", "*/", "--", "$", "${", "`",
    "async", "match", "case", "import", "from", "lambda", "<script>", "&", ";", "!", "%",
]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["python", "javascript", "html", "sql", "bash", "css", "markdown"]), FRAGMENTS)
def test_combined_states_give_pygments_own_tokens_on_any_fragment(language: str, pieces: list[str]) -> None:
    own, fast = pair(language)
    text = "".join(pieces)
    assert tokens(fast, text) == tokens(own, text)


def test_states_that_cannot_be_combined_keep_pygments_loop() -> None:
    bash = lexing.accelerate(get_lexer_by_name("bash"))
    tables = lexing._tables[type(bash)]
    assert None in tables.values() and any(tables.values())        # heredocs use a back-reference
    c_lexer = get_lexer_by_name("c")                 # a RegexLexer with a loop of its own (the C family's)
    assert isinstance(c_lexer, RegexLexer)
    assert lexing.accelerate(c_lexer) is c_lexer and "get_tokens_unprocessed" not in vars(c_lexer)
    json_lexer = get_lexer_by_name("json")           # not a RegexLexer at all
    assert lexing.accelerate(json_lexer) is json_lexer and "get_tokens_unprocessed" not in vars(json_lexer)


def test_highlight_gives_pygments_own_html() -> None:
    code = SAMPLES["python"]
    own = pygments_highlight(code, get_lexer_by_name("python", stripnl=False, ensurenl=False),
                             HtmlFormatter(noclasses=True, nowrap=True, style="default"))
    highlight.cache_clear()
    assert highlight(code, "python") == own


def test_the_state_tables_are_built_once_per_lexer_class() -> None:
    first = lexing.accelerate(get_lexer_by_name("python"))
    tables = lexing._tables[type(first)]
    lexing.accelerate(get_lexer_by_name("python"))
    assert lexing._tables[type(first)] is tables
