"""User-facing errors: one short line each, never a library traceback."""

from __future__ import annotations

__all__ = [
    "ClaudeMagicError",
    "ConfigurationError",
    "MissingCredentialError",
    "ApiError",
    "StreamCutOff",
    "TurnInterrupted",
    "ConversationBusy",
]


class ClaudeMagicError(Exception):
    """Base class: IPython shows only `str(self)` thanks to `_render_traceback_`."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


class ConfigurationError(ClaudeMagicError):
    """A setting or option value that cannot be used."""


class MissingCredentialError(ConfigurationError):
    """The SDK's credential chain finds nothing (no key, token, profile or federation)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or
            "No Anthropic credential: set ANTHROPIC_API_KEY (`%env ANTHROPIC_API_KEY=sk-ant-...`; or "
            "ANTHROPIC_AUTH_TOKEN, or an `anthropic` profile via ANTHROPIC_PROFILE), or use a Claude Code login "
            '(`pip install "claude-magic[claude-code]"`, then `claude auth login`); `%claude auth` shows what '
            "was found. Offline: `python -m claude_magic.testing` prints an ANTHROPIC_BASE_URL to use."
        )


class ApiError(ClaudeMagicError):
    """The API (or the connection to it) failed; the message says what to do."""

    def __init__(self, message: str, *, kind: str = "api_error", status: int | None = None,
                 retries: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retries = retries


class StreamCutOff(ApiError):
    """The response stream ended before `message_stop`."""


class TurnInterrupted(ClaudeMagicError):
    """The user interrupted the turn (Ctrl-C or Stop)."""

    def __init__(self, message: str = "Interrupted: the partial answer was kept; the conversation is still valid.") -> None:
        super().__init__(message)


class ConversationBusy(ClaudeMagicError):
    """Another turn is already running on this conversation."""
