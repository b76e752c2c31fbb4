"""Token usage of one API call, a turn or a session, as plain summable data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["Usage"]


@dataclass(slots=True)
class Usage:
    """Token counts as the API reports them (thinking tokens are part of output tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    thinking_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0

    @classmethod
    def from_sdk(cls, usage: Any) -> Usage:
        """Read an SDK `Usage` object (missing optional fields count as 0)."""
        if usage is None:
            return cls()
        creation = getattr(usage, "cache_creation", None)
        server = getattr(usage, "server_tool_use", None)
        details = getattr(usage, "output_tokens_details", None)
        return cls(
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            cache_creation_1h_input_tokens=(getattr(creation, "ephemeral_1h_input_tokens", 0) or 0),
            thinking_tokens=(getattr(details, "thinking_tokens", 0) or 0),
            web_search_requests=(getattr(server, "web_search_requests", 0) or 0),
            web_fetch_requests=(getattr(server, "web_fetch_requests", 0) or 0),
        )

    @property
    def total_input_tokens(self) -> int:
        """All input tokens: uncached, cache writes and cache reads."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def to_dict(self) -> dict[str, int]:
        """Plain dict for JSON and notebook metadata."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        """Inverse of `to_dict`; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{key: int(value) for key, value in data.items() if key in names})
