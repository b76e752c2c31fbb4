"""Rows to requests: identical prompts become one job, each job one Messages request with its shared prefix cached."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..core.model_names import resolve_model
from ..core.settings import Settings
from ..transport.file_uploads import FILES_BETA
from ..transport.request import build_params
from .inputs import Prompt

__all__ = ["Job", "RequestShape", "build_jobs", "job_id"]

_CACHED = {"type": "ephemeral"}


@dataclass(frozen=True)
class RequestShape:
    """What every request of a run shares: the parameters but the messages, and the instructions before each row's part."""

    base: dict[str, Any]
    prefix: str = ""
    cache: bool = True
    shared: tuple[dict[str, Any], ...] = ()    # blocks every row starts with (a document sent by file id)

    def params(self, prompt: Prompt) -> dict[str, Any]:
        """The Messages request for one prompt (a new dict; the shared parts are the same objects)."""
        params = dict(self.base)
        params["messages"] = [{"role": "user", "content": self._content(prompt)}]
        return params

    def _content(self, prompt: Prompt) -> list[dict[str, Any]]:
        """The user message: the shared blocks, then the row's own content."""
        return [*self.shared, *self._own(prompt)] if self.shared else self._own(prompt)

    def _own(self, prompt: Prompt) -> list[dict[str, Any]]:
        """The row's part: the shared instructions as their own (cached) block, then the rest."""
        if isinstance(prompt, list):
            return prompt
        prefix = self.prefix
        if prefix.strip() and prompt.startswith(prefix) and prompt[len(prefix):].strip():
            instructions: dict[str, Any] = {"type": "text", "text": prefix}
            if self.cache:
                instructions["cache_control"] = dict(_CACHED)
            return [instructions, {"type": "text", "text": prompt[len(prefix):]}]
        return [{"type": "text", "text": prompt}]


@dataclass(slots=True)
class Job:
    """One request: its `custom_id`, its prompt and the rows (positions) that share it.

    The request itself (`params`) is built when it is sent, not kept: 10,000 ready requests are some 70,000
    containers, which cost a full garbage collection (a tenth of a second or more) while they are built and
    memory for as long as the run lasts.
    """

    id: str
    prompt: Prompt | None                      # None: not known (a resumed run whose prompts were not given again)
    shape: RequestShape | None = None
    rows: list[int] = field(default_factory=list)

    @property
    def known(self) -> bool:
        """Whether the request can be sent (its prompt is known)."""
        return self.prompt is not None and self.shape is not None

    @property
    def params(self) -> dict[str, Any]:
        """The Messages request (`{}` when the prompt is not known)."""
        if self.prompt is None or self.shape is None:
            return {}
        return self.shape.params(self.prompt)

    @property
    def max_tokens(self) -> int:
        return int(self.shape.base.get("max_tokens", 0)) if self.shape is not None else 0


def job_id(position: int) -> str:
    """The `custom_id` of the job whose first row is at `position` (stable across runs of the same rows)."""
    return f"row-{position}"


def _key(prompt: Prompt) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, default=str)


def request_shape(settings: Settings, prefix: str = "", shared: tuple[dict[str, Any], ...] = ()) -> RequestShape:
    """The shared part of a run's requests; the system prompt, the `shared` blocks and `prefix` are the cached
    prefix. A shared block sent by file id carries the Files API beta header on every request."""
    cache = settings.cache
    base = build_params([{"role": "user", "content": "-"}], settings.with_options(cache=False))
    del base["messages"]
    base["model"] = resolve_model(settings.model, settings.aliases)
    if settings.system and cache:
        base["system"] = [{"type": "text", "text": settings.system, "cache_control": dict(_CACHED)}]
    if any((block.get("source") or {}).get("type") == "file" for block in shared):
        base["extra_headers"] = {"anthropic-beta": FILES_BETA}
    return RequestShape(base, prefix, cache, shared)


def build_jobs(prompts: list[Prompt], settings: Settings, prefix: str = "",
               shared: tuple[dict[str, Any], ...] = ()) -> list[Job]:
    """One job per distinct prompt, in first-seen order (each starting with the `shared` blocks)."""
    shape = request_shape(settings, prefix, shared)
    jobs: dict[str, Job] = {}
    for position, prompt in enumerate(prompts):
        key = _key(prompt)
        job = jobs.get(key)
        if job is None:
            job = jobs[key] = Job(job_id(position), prompt, shape)
        job.rows.append(position)
    return list(jobs.values())
