"""What went wrong with Claude Code, as one line saying what to do (never the CLI's raw output or a secret)."""

from __future__ import annotations

from typing import Any

from ...core.redaction import redact
from .auth import INSTALL_HINT

__all__ = ["exception_line", "result_line", "LOGIN_HINT", "DIED"]

LOGIN_HINT = "run `claude` in a terminal and log in (`/login`), then re-run this cell"
DIED = ("The Claude Code process stopped in the middle of the turn{detail}: the partial answer was kept; "
        "the next turn starts it again and resumes the session.")


def exception_line(error: BaseException, cli_path: str | None = None) -> tuple[str, str]:
    """(kind, one line) for an exception raised by the Agent SDK or its transport."""
    import claude_agent_sdk as sdk

    if isinstance(error, sdk.CLINotFoundError):
        where = f" at {cli_path}" if cli_path else ""
        return "cli_missing", (f"The Claude Code CLI was not found{where}: reinstall with `{INSTALL_HINT}` "
                               "(it bundles the CLI) or point ClaudeMagic.claude_code_cli at a `claude` executable.")
    if isinstance(error, sdk.CLIJSONDecodeError) or _is_message_parse_error(error):
        return "unparseable", ("Claude Code sent output claude-magic could not read; the turn was stopped and the "
                               "process restarts on the next turn — if it keeps happening, upgrade with "
                               "`pip install -U claude-agent-sdk`.")
    if isinstance(error, sdk.ProcessError):
        code = getattr(error, "exit_code", None)
        detail = f" (exit code {code})" if code is not None else ""
        return "died", DIED.format(detail=detail)
    if isinstance(error, sdk.CLIConnectionError):
        text = redact(str(error).splitlines()[0]) if str(error) else type(error).__name__
        return "died", DIED.format(detail=f" ({text})")
    return "error", f"Claude Code failed: {type(error).__name__}: {redact(str(error).splitlines()[0] if str(error) else '')}"


def result_line(result: Any, assistant_error: str | None, answer_text: str) -> tuple[str, str]:
    """(kind, one line) for a `ResultMessage` with `is_error`, using the last assistant error if any."""
    status = getattr(result, "api_error_status", None)
    text = (answer_text or "") + " " + " ".join(getattr(result, "errors", None) or []) + " " + \
        str(getattr(result, "result", "") or "")
    lowered = text.lower()
    if status == 403:
        return "forbidden", (f"The API behind Claude Code refused the request (403{_api_detail(text)}): the login or "
                             f"key may not have access to this model or feature — check the account, or {LOGIN_HINT}.")
    if assistant_error == "authentication_failed" or status == 401 or "not logged in" in lowered \
            or "invalid api key" in lowered or "/login" in lowered:
        if "expired" in lowered or "oauth token" in lowered:
            return "login_expired", f"Claude Code's login has expired or was revoked: {LOGIN_HINT}."
        if "not logged in" in lowered:
            return "not_logged_in", f"Claude Code is not logged in: {LOGIN_HINT} (or set an API key)."
        return "auth", (f"The API behind Claude Code refused its credential ({status or 401}): the login may have "
                        f"expired — {LOGIN_HINT}.")
    if assistant_error == "rate_limit" or status == 429 or "usage limit" in lowered or "rate limit" in lowered:
        return "rate_limit", ("Claude's usage or rate limit was reached (429): wait for the limit to reset (Claude "
                              "Code's `/usage` shows when), or switch to the API engine with an API key.")
    if status in (529,) or "overloaded" in lowered:
        return "overloaded", "Anthropic's API is overloaded (529): wait a minute and re-run the cell."
    if assistant_error == "billing_error":
        return "billing", "Claude Code reports a billing problem on the account: check the plan or credits, then re-run."
    if status is not None and status >= 500 or assistant_error == "server_error":
        return "server", f"The API behind Claude Code failed ({status or 'server error'}): re-run the cell in a moment."
    if status == 400 or assistant_error == "invalid_request":
        return "invalid", ("The API refused the request Claude Code sent (400): check the model name and options, "
                           "or start over with `%claude reset`.")
    subtype = getattr(result, "subtype", "") or ""
    if subtype == "error_max_turns":
        return "max_steps", ("Stopped at the step limit (ClaudeMagic.max_steps); the results so far are kept — "
                             "ask Claude to continue if you want more.")
    if subtype == "error_max_budget_usd":
        return "budget", ("Stopped: Claude Code reached ClaudeMagic.max_budget_usd (its CLI process's spending). Raise "
                          "it (`%config ClaudeMagic.max_budget_usd = ...`) or set it to None to go on.")
    detail = redact(" ".join(text.split())[:160]) or subtype or "no detail"
    return "error", f"Claude Code ended the turn with an error ({detail}): re-run the cell."


def _api_detail(text: str) -> str:
    """": <the API's message>" from Claude Code's "API Error: NNN <message>" text (redacted, short), or ""."""
    import re

    found = re.search(r"API Error: \d{3}\s+(.+)", " ".join(text.split()))
    if found is None:
        return ""
    detail = redact(found.group(1))
    return ": " + (detail[:160] + "…" if len(detail) > 160 else detail)


def _is_message_parse_error(error: BaseException) -> bool:
    """The Agent SDK's `MessageParseError` (a message it could not read), which it does not export:
    recognised by class name, so that no private module of the SDK is imported."""
    return any(kind.__name__ == "MessageParseError" for kind in type(error).__mro__)
