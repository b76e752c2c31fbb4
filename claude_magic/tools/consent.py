"""Consent before a tool runs: the ask / allow / deny policies and the `input()` prompt."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Mapping
from typing import Literal

from ..core.errors import ConfigurationError
from ..core.hidden_text import hidden_notice, reveal
from .context import ToolCall

__all__ = [
    "Policy", "POLICIES", "ConsentUnavailable", "check_policy", "format_request", "ask_in_console",
    "is_pattern", "configured_policy", "requester", "DECLINED", "POLICY_DENIED", "NO_CONSENT_CHANNEL",
    "UNTRUSTED_RECORD",
]

Policy = Literal["ask", "allow", "deny"]
POLICIES: tuple[str, ...] = ("ask", "allow", "deny")

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


def check_policy(policy: str, name: str = "") -> Policy:
    """`policy` if valid, else a `ConfigurationError` naming the choices."""
    if policy not in POLICIES:
        where = f" for tool {name!r}" if name else ""
        raise ConfigurationError(f"tool policy{where} must be one of {', '.join(POLICIES)}, not {policy!r}")
    return policy  # type: ignore[return-value]


def is_pattern(name: str) -> bool:
    """Whether a configured name is a glob (`mcp__git__*`, `*`): tool names never hold `*`, `?` or `[`."""
    return any(char in name for char in "*?[")


def configured_policy(name: str, policies: Mapping[str, Policy]) -> Policy | None:
    """The policy configured for `name`: its exact entry, else the longest glob that matches it, else None.

    Globs of equal length: the one configured first wins. `"*"` is the shortest glob, so it applies last.
    """
    exact = policies.get(name)
    if exact is not None:
        return exact
    best: tuple[int, Policy] | None = None
    for pattern, policy in policies.items():
        if is_pattern(pattern) and fnmatch.fnmatchcase(name, pattern) and (best is None or len(pattern) > best[0]):
            best = (len(pattern), policy)
    return best[1] if best else None


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
