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

__all__ = ["DOLLAR_HTML", "scanner", "markdown_dollars", "text_html", "is_money"]

DOLLAR_HTML = '<span class="tex2jax_ignore mathjax_ignore">$</span>'

# Alternatives, tried in this order at each position: code, then math, then a backslash pair or an escaped
# dollar, then a lone dollar. The leading lookahead lets the scan skip ordinary characters at C speed; a
# space can start a match only at a line's start (an indented fence), so other spaces are skipped too.
_CODE = (r"(?P<fence>^[ ]{0,3}(?P<mark>`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}(?P=mark)[ \t]*$|\Z))"
         r"|(?P<code>(?P<ticks>`+)[^`].*?(?P=ticks))")
_MATH = (r"|(?P<display>\$\$.+?\$\$|\\\[.+?\\\]|\\begin\{(?P<env>[a-zA-Z*]+)\}.+?\\end\{(?P=env)\})"
         r"|(?P<inline>\$(?=[^\s$])(?:[^$\n\\]|\\.)*?(?<=[^\s\\])\$(?!\d)|\\\(.+?\\\))")
_MONEY = r"|(?P<pair>\\\\)|(?P<dollar>\\?\$)"


def scanner(extra: str = "", lead: str = "") -> re.Pattern[str]:
    """The scan with a channel's own `extra` alternatives (named groups) after the dollar rule.

    `lead` adds characters that can start one of the extra alternatives.
    """
    return re.compile(rf"(?:(?=[`~$\\{re.escape(lead)}])|^(?=[ ]))(?:{_CODE}{_MATH}{_MONEY}{extra})",
                      re.S | re.M | re.I)


_SCAN = scanner()


def is_money(match: re.Match[str]) -> bool:
    """Whether a scan match is a literal dollar (`$` outside math, or `\\$`)."""
    return match.group("dollar") is not None


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
