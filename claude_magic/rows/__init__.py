"""Prompts over rows: `map` asks one prompt of every row of a DataFrame, Series or iterable, live or with the Message Batches API.

    inputs → jobs (identical prompts once, cached shared prefix) → estimate (+ confirm) →
    runner: live pool (async SDK client, adaptive concurrency) | batches (create, poll, results, cancel) →
    journal (every finished row on disk) → MapResult (aligned with the input)

`map_resume` collects or finishes a run, from its result object or — after a kernel restart — its run id
or a batch id.
"""

from __future__ import annotations

from .batch import BatchLimits
from .entry import MapRun, map, map_resume
from .result import MapResult

__all__ = ["map", "map_resume", "MapResult", "MapRun", "BatchLimits"]
