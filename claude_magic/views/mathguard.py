"""Which `$` is math and which is money: Pandoc's rule, as one compiled scan that every output channel uses.

Pandoc's rule for inline math: the opening `$` has a non-space character right after it, and the closing
`$` has a non-space character right before it and no digit right after it — so "$5 and $10", "$5-$10"
and "$ x$" are money, "$x^2$" is math. `$$…$$`, `\\(…\\)`, `\\[…\\]` and `\\begin{env}…\\end{env}` are
math; `\\$` is a literal dollar; nothing inside a code span or fenced code counts.

MathJax (JupyterLab, ipywidgets' HTMLMath, nbconvert) pairs any two `$` of one run of text, so each
channel writes a money `$` its own way:

- HTML: `DOLLAR_HTML`, the `$` alone in a `<span class="tex2jax_ignore mathjax_ignore">`. MathJax reads
  each element's text as its own string and skips those classes, so the `$` can never open or close math,
  and a renderer without MathJax shows a plain `$` (no backslash anywhere).
- Markdown: `\\$` (`markdown_dollars`), the escape CommonMark, GitHub, Pandoc and VS Code understand.
  JupyterLab's own Markdown renderer still typesets "\\$5 … \\$10", so every Markdown output this
  extension shows in a notebook also carries `text/html`, which JupyterLab prefers.
- Plain text: the `$` as it is (`text/plain` never carries an added backslash).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

__all__ = ["DOLLAR_HTML", "Scan", "scanner", "markdown_dollars", "text_html"]

DOLLAR_HTML = '<span class="tex2jax_ignore mathjax_ignore">$</span>'

# Alternatives, tried in this order at each position: code, then math, then a backslash pair or an escaped
# dollar, then a lone dollar. The leading lookahead lets the scan skip ordinary characters at C speed; a
# space can start a match only at a line's start (an indented fence), so other spaces are skipped too.
_CODE = (r"(?P<fence>^[ ]{0,3}(?P<mark>`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}(?P=mark)[ \t]*$|\Z))"
         r"|(?P<code>(?P<ticks>`+)[^`].*?(?P=ticks))")
_MATH = (r"|(?P<display>\$\$.+?\$\$|\\\[.+?\\\]|\\begin\{(?P<env>[a-zA-Z*]+)\}.+?\\end\{(?P=env)\})"
         r"|(?P<inline>\$(?=[^\s$])(?:[^$\n\\]|\\.)*?(?<=[^\s\\])\$(?!\d)|\\\(.+?\\\))")
_MONEY = r"|(?P<pair>\\\\)|(?P<dollar>\\?\$)"


class Scan:
    """The scan, searched for only where a match can start: sre cannot skip ahead by itself (the pattern opens
    with a lookahead), and trying it at every character costs ~40 ns each, most of a long answer's scan.

    A match starts at one of the lead characters, or at the start of a line indented 1-3 spaces before a
    fence; `sub` and `finditer` give what `pattern.sub` and `pattern.finditer` give.
    """

    def __init__(self, pattern: re.Pattern[str], leads: str) -> None:
        self.pattern = pattern
        self._match = pattern.match
        self._lead = re.compile(f"[{re.escape(leads)}]").search

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        match, lead = self._match, self._lead
        pos = 0
        while True:
            found = lead(text, pos)
            if found is None:
                return
            at = found.start()
            start = at
            if text[at] in "`~":                       # an indented fence starts at its line's start
                line = text.rfind("\n", 0, at) + 1
                if pos <= line < at <= line + 3 and not text[line:at].strip(" "):
                    start = line
            result = match(text, start)
            if result is None and start != at:
                result = match(text, at)
            if result is None:
                pos = at + 1
                continue
            yield result
            pos = max(result.end(), result.start() + 1)

    def sub(self, repl: Callable[[re.Match[str]], str], text: str) -> str:
        parts: list[str] = []
        last = 0
        for found in self.finditer(text):
            parts += (text[last:found.start()], repl(found))
            last = found.end()
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


def scanner(extra: str = "", lead: str = "") -> Scan:
    """The scan with a channel's own `extra` alternatives (named groups) after the dollar rule.

    `lead` adds characters that can start one of the extra alternatives.
    """
    pattern = re.compile(rf"(?:(?=[`~$\\{re.escape(lead)}])|^(?=[ ]))(?:{_CODE}{_MATH}{_MONEY}{extra})",
                         re.S | re.M | re.I)
    return Scan(pattern, "`~$\\" + lead)


_SCAN = scanner()


def _markdown_escape(match: re.Match[str]) -> str:
    return "\\$" if match.group("dollar") == "$" else match.group(0)


def markdown_dollars(text: str) -> str:
    """Markdown with each money `$` written `\\$` (math, code and existing escapes untouched; idempotent)."""
    if "$" not in text:
        return text
    return _SCAN.sub(_markdown_escape, text)


def text_html(text: str) -> str:
    """Plain text (no Markdown, no math) as HTML text in which every `$` shows as a dollar sign."""
    escaped = html.escape(text, quote=False)
    return escaped.replace("$", DOLLAR_HTML) if "$" in escaped else escaped
