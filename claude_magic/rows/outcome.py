"""What one row's request came to: status, answer text, validated output, error, tokens and cost."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..core.pricing import BATCH_DISCOUNT, Price, cost_of
from ..core.redaction import redact
from ..core.structured import OutputSpec, StructuredOutputError
from ..core.usage import Usage

__all__ = ["Outcome", "from_message", "usage_of", "failed", "STATUSES"]

#: ok: answered (and valid); invalid: answered but not fitting the schema; error: the request failed;
#: canceled / expired: never answered; pending: not run yet.
STATUSES = ("ok", "invalid", "error", "canceled", "expired", "pending")


@dataclass(slots=True)
class Outcome:
    """One job's result, plain data (it goes into the journal as JSON)."""

    status: str
    text: str | None = None
    output: Any = None                 # the answer as plain JSON-like data (validated when there is a schema)
    error: str | None = None
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        names = cls.__slots__  # type: ignore[attr-defined]
        return cls(**{key: value for key, value in data.items() if key in names})


_FIELDS = tuple(f.name for f in fields(Outcome))


def _get(value: Any, name: str, default: Any = None) -> Any:
    return value.get(name, default) if isinstance(value, dict) else getattr(value, name, default)


def _count(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    return value if isinstance(value, int) else 0


def usage_of(data: dict[str, Any] | None) -> Usage:
    """A message's usage as JSON (a batch result line) read as `Usage.from_sdk` reads the SDK's object."""
    if not isinstance(data, dict):
        return Usage()
    creation, details, server = (data.get(name) if isinstance(data.get(name), dict) else {}
                                 for name in ("cache_creation", "output_tokens_details", "server_tool_use"))
    return Usage(input_tokens=_count(data, "input_tokens"), output_tokens=_count(data, "output_tokens"),
                 cache_creation_input_tokens=_count(data, "cache_creation_input_tokens"),
                 cache_read_input_tokens=_count(data, "cache_read_input_tokens"),
                 cache_creation_1h_input_tokens=_count(creation, "ephemeral_1h_input_tokens"),
                 thinking_tokens=_count(details, "thinking_tokens"),
                 web_search_requests=_count(server, "web_search_requests"),
                 web_fetch_requests=_count(server, "web_fetch_requests"))


def from_message(message: Any, spec: OutputSpec | None, model: str, prices: dict[str, Price] | None,
                 batch: bool = False) -> Outcome:
    """The outcome of an answered request (an SDK `Message` or its dict)."""
    usage = usage_of(message.get("usage")) if isinstance(message, dict) else Usage.from_sdk(_get(message, "usage"))
    cost = cost_of(usage, model, prices)
    if cost is not None and batch:
        cost *= BATCH_DISCOUNT
    text = "".join(_get(block, "text", "") for block in _get(message, "content", []) or []
                   if _get(block, "type") == "text")
    outcome = Outcome("ok", text=text, stop_reason=_get(message, "stop_reason"), input_tokens=usage.input_tokens,
                      output_tokens=usage.output_tokens, cache_read_tokens=usage.cache_read_input_tokens,
                      cache_write_tokens=usage.cache_creation_input_tokens, cost=cost)
    if outcome.stop_reason in ("max_tokens", "refusal", "model_context_window_exceeded"):
        outcome.status = "invalid" if spec is not None else "ok"
        outcome.error = f"the answer stopped early ({outcome.stop_reason})"
        if spec is None:
            return outcome
    if spec is None:
        outcome.output = text
        return outcome
    try:
        outcome.output = spec.to_plain(spec.validate(text))
        outcome.status, outcome.error = "ok", None
    except StructuredOutputError as error:
        outcome.status = "invalid"
        outcome.error = outcome.error or str(error)
    return outcome


def failed(error: str, status: str = "error") -> Outcome:
    """The outcome of a request that got no answer (its one-line error, secrets removed)."""
    return Outcome(status, error=redact(error))
