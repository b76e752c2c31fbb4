"""Cost first: the input tokens of a sample of requests (`count_tokens`), times the rows, times the price; the batch discount beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.pricing import BATCH_DISCOUNT, Price, price_for
from .jobs import Job

__all__ = ["Estimate", "estimate_cost", "SAMPLE"]

SAMPLE = 3            # requests counted with count_tokens


@dataclass(frozen=True)
class Estimate:
    """Tokens and USD for the whole run; `output_tokens` is the bound max_tokens sets."""

    requests: int
    input_tokens: int
    output_tokens: int
    input_cost: float | None
    output_cost: float | None
    counted: bool                  # False: count_tokens was unavailable, input is a character-based guess

    @property
    def cost(self) -> float | None:
        """At most this much in live mode (input plus every answer at max_tokens)."""
        if self.input_cost is None or self.output_cost is None:
            return None
        return self.input_cost + self.output_cost

    @property
    def batch_cost(self) -> float | None:
        return None if self.cost is None else self.cost * BATCH_DISCOUNT

    def cost_for(self, mode: str) -> float | None:
        return self.batch_cost if mode == "batch" else self.cost

    def describe(self, mode: str) -> str:
        """One line: tokens, the bound in live and batch mode."""
        guess = "" if self.counted else " (≈, count_tokens unavailable)"
        tokens = (f"{self.requests:,} request{'s' if self.requests != 1 else ''}: ~{self.input_tokens:,} input "
                  f"tokens{guess}, at most {self.output_tokens:,} output tokens")
        if self.cost is None:
            return f"{tokens}; cost unknown (no price for this model)"
        live = f"at most ${self.cost:,.2f} live"
        batch = f"${self.batch_cost:,.2f} with the Batches API (50% off)"
        first, second = (batch, live) if mode == "batch" else (live, batch)
        return f"{tokens}; {first}, {second} (input ~${self.input_cost:,.2f})"


def estimate_cost(client: Any, jobs: list[Job], model: str, prices: dict[str, Price] | None) -> Estimate:
    """Count a sample's input tokens and scale to every job."""
    import anthropic

    sample = _spread(jobs, SAMPLE)
    counts: list[int] = []
    counted = True
    for job in sample:
        params = {key: job.params[key] for key in ("model", "messages", "system", "tools", "thinking",
                                                   "output_config", "extra_headers") if key in job.params}
        try:
            counts.append(client.messages.count_tokens(**params).input_tokens)
        except (anthropic.APIError, TypeError):
            counted = False
            break
    if not counted or not counts:
        counts = [max(1, len(str(job.params.get("messages"))) // 4 + len(str(job.params.get("system") or "")) // 4)
                  for job in sample] or [0]
    per_request = sum(counts) / len(counts)
    input_tokens = round(per_request * len(jobs))
    output_tokens = sum(job.max_tokens for job in jobs)
    price = price_for(model, prices)
    input_cost = None if price is None else input_tokens * price.input / 1_000_000
    output_cost = None if price is None else output_tokens * price.output / 1_000_000
    return Estimate(len(jobs), input_tokens, output_tokens, input_cost, output_cost, counted)


def _spread(jobs: list[Job], count: int) -> list[Job]:
    """Up to `count` jobs from across the run (first, middle, last)."""
    if len(jobs) <= count:
        return list(jobs)
    step = (len(jobs) - 1) / (count - 1)
    return [jobs[round(i * step)] for i in range(count)]
