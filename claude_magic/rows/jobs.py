"""Rows to requests: identical prompts become one job, each job one Messages request with its shared prefix cached."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..models import resolve_model
from ..request import build_params
from ..settings import Settings
from .inputs import Prompt

__all__ = ["Job", "build_jobs", "job_id"]

_CACHED = {"type": "ephemeral"}


@dataclass(slots=True)
class Job:
    """One request: its `custom_id`, its parameters and the rows (positions) that share its prompt."""

    id: str
    params: dict[str, Any]
    rows: list[int] = field(default_factory=list)


def job_id(position: int) -> str:
    """The `custom_id` of the job whose first row is at `position` (stable across runs of the same rows)."""
    return f"row-{position}"


def _content(prompt: Prompt, prefix: str, cache: bool) -> list[dict[str, Any]]:
    """The user message: the shared instructions as their own (cached) block, then the row's part."""
    if isinstance(prompt, list):
        return prompt
    if prefix.strip() and prompt.startswith(prefix) and prompt[len(prefix):].strip():
        instructions: dict[str, Any] = {"type": "text", "text": prefix}
        if cache:
            instructions["cache_control"] = dict(_CACHED)
        return [instructions, {"type": "text", "text": prompt[len(prefix):]}]
    return [{"type": "text", "text": prompt}]


def _key(prompt: Prompt) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, default=str)


def build_jobs(prompts: list[Prompt], settings: Settings, prefix: str = "") -> list[Job]:
    """One job per distinct prompt, in first-seen order; the system prompt and `prefix` are the cached prefix."""
    cache = settings.cache
    base = build_params([{"role": "user", "content": "-"}], settings.with_options(cache=False))
    base["model"] = resolve_model(settings.model, settings.aliases)
    if settings.system and cache:
        base["system"] = [{"type": "text", "text": settings.system, "cache_control": dict(_CACHED)}]
    jobs: dict[str, Job] = {}
    for position, prompt in enumerate(prompts):
        key = _key(prompt)
        job = jobs.get(key)
        if job is None:
            params = dict(base)
            params["messages"] = [{"role": "user", "content": _content(prompt, prefix, cache)}]
            job = jobs[key] = Job(job_id(position), params)
        job.rows.append(position)
    return list(jobs.values())
