"""Asking before an expensive run, the way tool consent asks: the estimate printed, then y/N with `input()` (a stdin request in Jupyter)."""

from __future__ import annotations

import sys

from ..core.errors import ClaudeMagicError

__all__ = ["MapDeclined", "confirm_cost"]

_YES = frozenset({"y", "yes"})


class MapDeclined(ClaudeMagicError):
    """The run was not started: its cost is above the limit and the user said no (or could not be asked)."""


def confirm_cost(estimate_line: str, cost: float, limit: float) -> None:
    """Return if the user agrees to a run that may cost `cost` (> `limit`); else raise `MapDeclined` (nothing was sent)."""
    print(f"claude_magic.map: {estimate_line}", flush=True)
    how = ("pass max_cost= higher, or set `%config ClaudeMagic.map_confirm_above` (None never asks)")
    try:
        answer = input(f"This may cost up to ${cost:,.2f}, above the ${limit:,.2f} limit. Start? [y/N] ")
    except (EOFError, NotImplementedError, OSError):   # StdinNotImplementedError is a NotImplementedError
        sys.stdout.flush()
        raise MapDeclined(f"Not started: it may cost up to ${cost:,.2f}, above the ${limit:,.2f} limit, and there "
                          f"is no way to ask here; {how}.") from None
    if answer.strip().lower() not in _YES:
        raise MapDeclined(f"Not started (declined): nothing was sent. To run it without asking, {how}.")
