"""Consent before a tool runs: what the user reads, the `input()` prompt, and the answers Claude gets
when a call is not run (the policies themselves are in `policy`)."""

from __future__ import annotations

import json
import sys

from ..core.hidden_text import hidden_notice, reveal
from .context import ToolCall

__all__ = [
    "ConsentUnavailable", "format_request", "ask_in_console", "requester", "DECLINED", "POLICY_DENIED",
    "NO_CONSENT_CHANNEL", "UNTRUSTED_RECORD",
]

DECLINED = "The user declined to run this tool call."
POLICY_DENIED = ("The tool call was not run: the user's policy for the tool {name!r} is 'deny'. Do not retry it; "
                 "ask the user if you need it.")
NO_CONSENT_CHANNEL = ("The tool call was not run: it needs the user's consent and there was no way to ask "
                      "(no interactive input). The user can allow it with "
                      "`%config ClaudeMagic.tool_policies = {{{name!r}: 'allow'}}`.")

UNTRUSTED_RECORD = ("The recorded tool call was not run: it comes from {path}, which was not written by this user's "
                    "kernels, and there was no way to ask (`%claude restore` accepts the file).")

_YES = frozenset({"y", "yes"})


class ConsentUnavailable(Exception):
    """The user could not be asked (no stdin, closed input): the call is not run."""


def format_request(call: ToolCall) -> str:
    """The call as the user reads it before deciding: tool name, then every argument in full, with control,
    bidi and zero-width characters shown as escapes (and a line saying how many there are)."""
    lines = [f"{requester(call)} wants to run the tool `{reveal(call.name)}`:"]
    if call.record is not None and not call.record.trusted:
        lines.append(f"  (recorded in {reveal(call.record.path or 'a store file')}, which was not written by this "
                     "user's kernels)")
    for key, value in call.input.items():
        if isinstance(value, str) and ("\n" in value or key == "code"):
            lines.append(f"  {reveal(key)}:")
            lines.extend("    " + line for line in reveal(value).splitlines() or [""])
        else:
            lines.append(f"  {reveal(key)} = {reveal(json.dumps(value, ensure_ascii=False, default=repr))}")
    if not call.input:
        lines.append("  (no arguments)")
    notice = hidden_notice(call.input, "This code" if "code" in call.input else "This call")
    if notice:
        lines.append(notice)
    return "\n".join(lines)


def requester(call: ToolCall) -> str:
    """Who asks for the call: Claude now, or the notebook's saved record when replay re-runs a recorded call."""
    return "Claude" if call.record is None else "The notebook's saved record (not Claude, now)"


def ask_in_console(call: ToolCall) -> bool:
    """Print the request and ask y/N with `input()` (a stdin request in Jupyter); no answer means no."""
    print(format_request(call), flush=True)
    try:
        answer = input(f"Run {reveal(call.name)}? [y/N] ")
    except (EOFError, NotImplementedError, OSError) as exc:  # StdinNotImplementedError is a NotImplementedError
        sys.stdout.flush()
        raise ConsentUnavailable(str(exc) or type(exc).__name__) from None
    return answer.strip().lower() in _YES
