"""The result of `map`, aligned with its input: one column per output field (or one text column), each row's status, error, tokens and cost, and the run's totals."""

from __future__ import annotations

import html
from typing import Any

from ..core.structured import OutputSpec
from .journal import RunRecord
from .outcome import Outcome

__all__ = ["MapResult"]

_META = ("status", "error", "input_tokens", "output_tokens", "cost")


class MapResult:
    """`.frame` (pandas for pandas and plain inputs, polars for polars), `.totals`, `.outputs`, `.batch_ids`.

    Indexing and `len` go to the frame: `result["label"]`, `df.join(result.frame)`.
    """

    def __init__(self, record: RunRecord, outcomes: dict[str, Outcome], spec: OutputSpec | None,
                 index: Any = None, duration: float = 0.0, estimate: Any = None, note: str = "") -> None:
        self.record = record
        self.outcomes = outcomes
        self.spec = spec
        self.index = index
        self.duration = duration
        self.estimate = estimate
        self.note = note                  # how the run ended, when it did not finish ("stopped", ...)
        self._frame: Any = None

    # --- per row -------------------------------------------------------------------------------

    def _row_outcomes(self) -> list[tuple[Outcome | None, bool]]:
        """(outcome, first row of its job) for each row position."""
        rows: list[tuple[Outcome | None, bool]] = [(None, True)] * self.record.rows
        for job_id, positions in self.record.jobs.items():
            outcome = self.outcomes.get(job_id)
            for number, position in enumerate(positions):
                rows[position] = (outcome, number == 0)
        return rows

    @property
    def output_columns(self) -> list[str]:
        if self.spec is not None and self.spec.fields:
            return list(self.spec.fields)
        if self.record.fields:
            return list(self.record.fields)
        return ["output"] if (self.spec is not None or self.record.schema) else ["text"]

    def columns(self) -> dict[str, list[Any]]:
        """The table as plain columns (output fields first, then status, error, tokens, cost)."""
        fields = self.output_columns
        meta = {name: (f"claude_{name}" if name in fields else name) for name in _META}
        table: dict[str, list[Any]] = {name: [] for name in [*fields, *meta.values()]}
        by_object = bool(self.spec is not None and self.spec.fields) or bool(self.record.fields)
        for outcome, first in self._row_outcomes():
            value = outcome.output if outcome is not None and outcome.status == "ok" else None
            if fields == ["text"]:
                table["text"].append(outcome.text if outcome is not None and outcome.status != "error" else None)
            elif by_object:
                for name in fields:
                    table[name].append(value.get(name) if isinstance(value, dict) else None)
            else:
                table["output"].append(value)
            table[meta["status"]].append(outcome.status if outcome is not None else "pending")
            table[meta["error"]].append(outcome.error if outcome is not None else None)
            counted = outcome is not None and first
            table[meta["input_tokens"]].append(outcome.input_tokens if counted else 0)
            table[meta["output_tokens"]].append(outcome.output_tokens if counted else 0)
            table[meta["cost"]].append(outcome.cost if counted else (0.0 if outcome is not None else None))
        return table

    @property
    def frame(self) -> Any:
        """The table as a DataFrame with the input's index (pandas), or in the input's row order (polars)."""
        if self._frame is None:
            self._frame = self._build_frame()
        return self._frame

    def _build_frame(self) -> Any:
        table = self.columns()
        if self.record.kind.startswith("polars"):
            import polars as pl

            return pl.DataFrame(table, strict=False)
        try:
            import pandas as pd
        except ImportError:
            return [dict(zip(table, values, strict=True)) for values in zip(*table.values(), strict=True)]
        index = self.index
        if index is None and self.record.labels is not None:
            index = self.record.labels
        frame = pd.DataFrame(table, index=index)
        frame.attrs["claude_magic"] = self.totals
        return frame

    def to_pandas(self) -> Any:
        frame = self.frame
        return frame.to_pandas() if hasattr(frame, "to_pandas") else frame

    @property
    def outputs(self) -> list[Any]:
        """Each row's validated object (a model instance with `output=Model`; the text without), None where it failed."""
        values = []
        for outcome, _first in self._row_outcomes():
            if outcome is None or outcome.status != "ok":
                values.append(None)
            elif self.spec is None:
                values.append(outcome.output if outcome.output is not None else outcome.text)
            else:
                values.append(self.spec.from_plain(outcome.output))
        return values

    # --- totals --------------------------------------------------------------------------------

    @property
    def totals(self) -> dict[str, Any]:
        counts = dict.fromkeys(("ok", "invalid", "error", "canceled", "expired", "pending"), 0)
        for outcome, _first in self._row_outcomes():
            counts[outcome.status if outcome is not None else "pending"] += 1
        answered = [o for o in self.outcomes.values() if o is not None]
        costs = [o.cost for o in answered if o.cost is not None]
        return {
            "run_id": self.record.run_id, "mode": self.record.mode, "model": self.record.model,
            "rows": self.record.rows, "requests": len(self.record.jobs), **counts,
            "input_tokens": sum(o.input_tokens for o in answered),
            "output_tokens": sum(o.output_tokens for o in answered),
            "cache_read_tokens": sum(o.cache_read_tokens for o in answered),
            "cost": sum(costs) if costs or not answered else None,
            "duration": round(self.duration, 3), "batch_ids": list(self.record.batch_ids),
        }

    @property
    def batch_ids(self) -> list[str]:
        return list(self.record.batch_ids)

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def complete(self) -> bool:
        """Every row has an answer (ok or invalid) or a final error."""
        totals = self.totals
        return totals["pending"] == 0 and totals["canceled"] == 0

    def summary(self) -> str:
        t = self.totals
        parts = [f"{t['ok']:,} ok"]
        parts += [f"{t[name]:,} {name}" for name in ("invalid", "error", "canceled", "expired", "pending") if t[name]]
        cost = f"${t['cost']:,.4f}" if t["cost"] is not None else "cost unknown"
        shared = t["rows"] - t["requests"]
        dedup = f" ({shared:,} identical prompt{'s' if shared != 1 else ''} sent once)" if shared > 0 else ""
        note = f" — {self.note}" if self.note else ""
        return (f"{t['rows']:,} rows{dedup}: {', '.join(parts)} · {cost} · {t['duration']:.1f} s · "
                f"{t['mode']}{note}")

    # --- Python protocol -----------------------------------------------------------------------

    def __len__(self) -> int:
        return self.record.rows

    def __getitem__(self, key: Any) -> Any:
        return self.frame[key]

    def __repr__(self) -> str:
        return f"<MapResult {self.record.run_id}: {self.summary()}>"

    def _repr_html_(self) -> str:
        frame = self.frame
        table = frame._repr_html_() if hasattr(frame, "_repr_html_") else html.escape(repr(frame))
        return f"<p><code>{html.escape(self.record.run_id)}</code> {html.escape(self.summary())}</p>{table}"
