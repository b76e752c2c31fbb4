"""Prices per model family and the cost of a `Usage` (one data table, user-overridable)."""

from __future__ import annotations

from dataclasses import dataclass

from .usage import Usage

__all__ = ["Price", "PRICES", "price_for", "cost_of"]


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens, with the API's cache multipliers."""

    input: float
    output: float
    cache_write_5m: float = 1.25
    cache_write_1h: float = 2.0
    cache_read: float = 0.1
    web_search_per_1000: float = 10.0      # server web search: USD per 1,000 searches, on top of tokens


#: Longest matching prefix of the model id wins. Public list prices, November 2026. Web search is billed per
#: search on top of tokens (`usage.server_tool_use.web_search_requests`, $10 per 1,000); web fetch costs only
#: the tokens of the fetched page.
PRICES: dict[str, Price] = {
    "claude-opus-5-5": Price(4, 20),
    "claude-opus-5": Price(5, 25),
    "claude-opus-4": Price(5, 25),
    "claude-sonnet-5": Price(2, 10),
    "claude-sonnet-4": Price(3, 15),
    "claude-haiku-5": Price(1, 5),
    "claude-haiku-4": Price(1, 5),
    "claude-fable-5": Price(10, 50),
    "claude-mythos-5": Price(10, 50),
}

BATCH_DISCOUNT = 0.5


def price_for(model: str, overrides: dict[str, Price] | None = None) -> Price | None:
    """The price row for a model id, or None when it is unknown (no made-up price)."""
    table = {**PRICES, **(overrides or {})}
    matches = [prefix for prefix in table if model.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


def cost_of(usage: Usage, model: str, overrides: dict[str, Price] | None = None) -> float | None:
    """Cost in USD of `usage` on `model`, or None when the model has no known price."""
    price = price_for(model, overrides)
    if price is None:
        return None
    write_1h = usage.cache_creation_1h_input_tokens
    write_5m = usage.cache_creation_input_tokens - write_1h
    dollars = (
        usage.input_tokens * price.input
        + write_5m * price.input * price.cache_write_5m
        + write_1h * price.input * price.cache_write_1h
        + usage.cache_read_input_tokens * price.input * price.cache_read
        + usage.output_tokens * price.output
    )
    return dollars / 1_000_000 + usage.web_search_requests * price.web_search_per_1000 / 1000
