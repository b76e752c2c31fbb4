"""The model catalogue the local server answers `GET /v1/models` with.

Figures are plausible stand-ins (context window, output limit, release date), not published facts:
they let code that asks the API for limits run offline. `LocalServer.models` is a plain dict that a
test may edit.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MODELS", "default_models", "lookup_model", "models_page"]

# id, display name, release date, context window, max output tokens
MODELS: tuple[tuple[str, str, str, int, int], ...] = (
    ("claude-opus-5-5", "Claude Opus 5.5", "2026-10-20", 1_000_000, 128_000),
    ("claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-10-20", 1_000_000, 64_000),
    ("claude-haiku-5-5", "Claude Haiku 5.5", "2026-10-13", 200_000, 64_000),
    ("claude-opus-5", "Claude Opus 5", "2026-07-28", 1_000_000, 128_000),
    ("claude-sonnet-5", "Claude Sonnet 5", "2026-07-28", 1_000_000, 64_000),
    ("claude-opus-4-8", "Claude Opus 4.8", "2026-05-19", 1_000_000, 128_000),
    ("claude-opus-4-7", "Claude Opus 4.7", "2026-04-16", 1_000_000, 128_000),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17", 1_000_000, 64_000),
    ("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05", 1_000_000, 128_000),
    ("claude-opus-4-5", "Claude Opus 4.5", "2025-11-24", 200_000, 64_000),
    ("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15", 200_000, 64_000),
    ("claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29", 200_000, 64_000),
)

_SNAPSHOT_SUFFIX = re.compile(r"-\d{8}$")


def _supported(flag: bool) -> dict[str, bool]:
    return {"supported": flag}


def _capabilities(model_id: str) -> dict[str, Any]:
    """A capabilities object in the API's shape; adaptive thinking and compaction from the 4.6 generation on."""
    adaptive = model_id not in {"claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"}
    yes = _supported(True)
    return {
        "batch": yes,
        "citations": yes,
        "code_execution": yes,
        "compaction": {"supported": adaptive, "summarize": _supported(adaptive)},
        "context_management": {"supported": True, "clear_thinking_20251015": yes, "clear_tool_uses_20250919": yes,
                               "compact_20260112": _supported(adaptive)},
        "effort": {
            "supported": True,
            "low": yes,
            "medium": yes,
            "high": yes,
            "max": yes,
            "xhigh": _supported(adaptive),
        },
        "image_input": yes,
        "pdf_input": yes,
        "server_tools": {"supported": True, "code_execution": yes, "web_search": yes},
        "structured_outputs": yes,
        "thinking": {"supported": True, "types": {"adaptive": _supported(adaptive), "enabled": yes}},
    }


def default_models() -> dict[str, dict[str, Any]]:
    """Fresh `ModelInfo` dicts keyed by id, newest first (the API's listing order)."""
    models: dict[str, dict[str, Any]] = {}
    for model_id, name, released, context, max_tokens in MODELS:
        models[model_id] = {
            "type": "model",
            "id": model_id,
            "display_name": name,
            "created_at": f"{released}T00:00:00Z",
            "max_input_tokens": context,
            "max_tokens": max_tokens,
            "lifecycle": "active",
            "line": model_id.split("-")[1],
            "deprecated_at": None,
            "retires_at": None,
            "capabilities": _capabilities(model_id),
        }
    return models


def lookup_model(models: dict[str, dict[str, Any]], model_id: str) -> dict[str, Any] | None:
    """The entry for `model_id`, also when it carries a dated snapshot suffix (`-20250929`)."""
    if model_id in models:
        return models[model_id]
    return models.get(_SNAPSHOT_SUFFIX.sub("", model_id))


def models_page(
    models: dict[str, dict[str, Any]], *, limit: int = 20, after_id: str | None = None, before_id: str | None = None
) -> dict[str, Any]:
    """One page of the listing in the API's shape: `data`, `has_more`, `first_id`, `last_id`."""
    items = list(models.values())
    ids = [item["id"] for item in items]
    start, stop = 0, len(items)
    if after_id in ids:
        start = ids.index(after_id) + 1
    if before_id in ids:
        stop = ids.index(before_id)
        start = max(start, stop - limit)
    limit = max(1, min(limit, 1000))
    page = items[start : min(stop, start + limit)]
    has_more = (start + len(page) < stop) if before_id is None else start > 0
    return {
        "data": page,
        "has_more": has_more,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }
