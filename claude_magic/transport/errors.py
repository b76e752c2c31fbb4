"""Translating SDK and transport exceptions into one-line `ApiError`s that say what to do."""

from __future__ import annotations

from ..core.errors import ApiError, StreamCutOff
from ..core.redaction import redact
from .accumulate import ToolInputError
from .credentials import credential_error, sent_credentials

__all__ = ["translate_exception", "cut_off_error"]

_KEEP = " The partial answer was kept; the conversation is still valid — re-run the cell to try again."


def _retries_text(retries: int) -> str:
    return f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""


def translate_exception(exc: BaseException, *, model: str, base_url: str, retries: int = 0,
                        streaming_started: bool = False) -> ApiError | None:
    """The user-facing error for `exc`, or None when it is not an API/transport failure."""
    import anthropic

    after = _retries_text(retries)
    credential = credential_error(exc)            # the SDK could not get a token (a refresh refused ...)
    if credential is not None:
        return credential
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        error_type = _error_type(exc)
        detail = redact(_api_message(exc), sent_credentials(exc)).rstrip(".")   # an echoed profile token too
        if status == 200 or streaming_started:
            kind = error_type or "stream_error"
            label = "Claude is overloaded" if kind == "overloaded_error" else f"The API reported {kind}"
            return StreamCutOff(f"The answer was cut off mid-stream: {label} ({detail}).{_KEEP}",
                                kind=kind, status=status, retries=retries)
        message = _status_message(status, error_type, detail, model, base_url, after)
        return ApiError(message, kind=error_type or f"http_{status}", status=status, retries=retries)
    if streaming_started and isinstance(exc, (anthropic.APIConnectionError, OSError)):
        return _cut_off_mid_stream(exc, retries)  # the answer had begun: the connection broke mid-answer
    if isinstance(exc, anthropic.APITimeoutError):
        return ApiError(f"No answer from {base_url} in time{after} (request timed out): check the network, "
                        "or raise `%config ClaudeMagic.timeout`.", kind="timeout", retries=retries)
    if isinstance(exc, anthropic.APIConnectionError) or _is_connection_failure(exc):
        return ApiError(f"Could not connect to {base_url}{after}: check that you are online, or that the "
                        "server in ANTHROPIC_BASE_URL is running.", kind="connection", retries=retries)
    if isinstance(exc, ToolInputError):
        return StreamCutOff(f"The answer was cut off: Claude's input for a tool call was not valid JSON, so the "
                            f"tool was not run ({redact(str(exc))[:120]}).{_KEEP}", kind="tool_input_json",
                            retries=retries)
    if isinstance(exc, ValueError) and streaming_started:
        return StreamCutOff(f"The answer was cut off: the server sent a malformed stream event ({redact(str(exc))[:120]}).{_KEEP}",
                            kind="malformed_stream", retries=retries)
    return None


def cut_off_error(retries: int = 0) -> StreamCutOff:
    """The error for a stream that ended without `message_stop`."""
    return StreamCutOff(f"The answer was cut off: the stream ended before the message was complete.{_KEEP}",
                        kind="cut_off", retries=retries)


def _status_message(status: int, error_type: str, detail: str, model: str, base_url: str, after: str) -> str:
    if status == 401:
        return (f"Authentication failed (401): the API key or token was rejected ({detail}). "
                "Check ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN (`%claude auth` shows which credential is used).")
    if status == 403:
        return (f"Permission denied (403): {detail}. Your key may not have access to this model or feature: "
                "choose another model (-m) or check the key's workspace permissions.")
    if status == 404:
        return (f"Model {model!r} was not found at {base_url} (404: {detail}). Use a full model id or an "
                "alias (opus, sonnet, haiku); `%claude models` lists the models available.")
    if status == 413:
        return ("Request too large (413): the conversation or its attachments exceed the API's size limit. "
                "Remove attachments, `%claude pop` or `%claude reset`.")
    if status == 429:
        return f"Rate limited (429){after}: {detail}. Wait a little and re-run the cell."
    if status == 529 or error_type == "overloaded_error":
        return f"Claude is overloaded ({status}){after}. Try again in a moment."
    if status >= 500:
        return f"The API had an internal error ({status}){after}: {detail}. Try again shortly."
    if status == 400:
        return (f"The API refused the request (400 {error_type}): {detail}. Fix what it names (an option or an "
                "attachment) and re-run; if the conversation itself is refused, `%claude pop` drops the last turn.")
    return f"The API refused the request ({status} {error_type}): {detail}."


def _error_type(exc: object) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("type"), str):
            return error["type"]
    return str(getattr(exc, "type", "") or "")


def _api_message(exc: object) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(getattr(exc, "message", "") or exc).splitlines()[0][:300]


def _cut_off_mid_stream(exc: Exception, retries: int) -> StreamCutOff:
    """A failure after the first stream event: a stalled stream (a timeout) or a dropped connection."""
    if _is_timeout(exc):
        return StreamCutOff(f"The answer was cut off: the server sent nothing for longer than the timeout "
                            f"({_cause_name(exc)}).{_KEEP} A slow server may need a longer "
                            "`%config ClaudeMagic.timeout`.", kind="read_timeout", retries=retries)
    return StreamCutOff(f"The answer was cut off: the connection dropped mid-answer ({_cause_name(exc)}).{_KEEP}",
                        kind="connection_dropped", retries=retries)


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it wraps (the SDK wraps its transport's error as `__cause__`)."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return chain


def _is_timeout(exc: BaseException) -> bool:
    """The SDK's `APITimeoutError` (a stalled stream), or an OS-level timeout."""
    import anthropic

    return isinstance(exc, (anthropic.APITimeoutError, TimeoutError))


def _cause_name(exc: BaseException) -> str:
    """The name of the innermost error, which says most (`ReadError` rather than `APIConnectionError`)."""
    return type(_chain(exc)[-1]).__name__


def _is_connection_failure(exc: BaseException) -> bool:
    """An OS-level connection failure raised before any answer (not wrapped by the SDK)."""
    return isinstance(exc, (ConnectionError, EOFError))
