"""`ClaudeMagic.max_budget_usd` on the API engine: no request once the session's turns have spent the budget.

The Agent SDK stops a Claude Code query past its `max_budget_usd`; the API engine checks before each request (a
turn's tool loop too), from the cost of the session's earlier turns and of this turn's requests so far.
"""

from __future__ import annotations

from ..core.events import Notice
from ..core.pricing import cost_of
from ..core.results import TurnResult
from .base import TurnRequest

__all__ = ["over_budget"]


def over_budget(request: TurnRequest, result: TurnResult) -> bool:
    """Whether the budget is spent; if so the turn ends with one line (`result.error`) and a notice."""
    budget = request.settings.max_budget_usd
    if budget is None:
        return False
    spent = request.spent + (cost_of(result.usage, result.model, request.prices) or 0.0)
    if spent < budget:
        return False
    result.status = "error"
    result.error = (f"Stopped before the next request: this session's turns have spent ${spent:.4f} of "
                    f"ClaudeMagic.max_budget_usd (${budget:.2f}). Raise it (`%config ClaudeMagic.max_budget_usd = "
                    "...`) or set it to None to go on.")
    request.emit(Notice(result.error, "warning"))
    return True
