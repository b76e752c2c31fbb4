"""Will the next request fit the model's context window? A cheap estimate first, the API when it matters."""

from __future__ import annotations

import json
import threading
from typing import Any

from ..core.errors import ClaudeMagicError
from ..core.prefix_memo import PrefixMemo

__all__ = ["ContextOverflow", "ModelCatalog", "estimate_tokens", "check_fits"]

#: Characters per token used for the local estimate (deliberately low: it over-counts).
CHARS_PER_TOKEN = 3.0
#: The API is asked for an exact count only when the estimate passes this share of the window.
CHECK_FROM = 0.5
#: Context window assumed when the server cannot say (models endpoint missing).
FALLBACK_WINDOW = 200_000
#: Below this estimate no request is checked (every current Claude model has a larger window).
NO_CHECK_BELOW = 25_000


class ContextOverflow(ClaudeMagicError):
    """The request would not fit the model's context window."""


def estimate_tokens(params: dict[str, Any]) -> int:
    """An over-estimate of the input tokens of a request (no network): its JSON size (a block's size is measured
    once, when it first appears: a long conversation's next request costs what is new)."""
    size = sum(len(json.dumps(params.get(key, ""), ensure_ascii=False)) for key in ("system", "tools"))
    return int((size + _messages_size(params.get("messages") or [])) / CHARS_PER_TOKEN)


_MESSAGE = len('{"role": "assistant", "content": }, ')


def _grow(size: int, _index: int, message: dict[str, Any]) -> int:
    return size + _MESSAGE + len(json.dumps(message.get("content"), ensure_ascii=False))


_SIZES: PrefixMemo[int] = PrefixMemo(_grow, 0)


def _messages_size(messages: list[dict[str, Any]]) -> int:
    """The JSON size of the messages, each content measured once (`PrefixMemo`)."""
    return _SIZES.fold(messages, [message.get("content") for message in messages])


class ModelCatalog:
    """Model facts from `models.list` / `models.retrieve`, fetched once per model and cached."""

    def __init__(self) -> None:
        self._info: dict[str, Any] = {}
        self._listed: list[Any] | None = None
        self._lock = threading.Lock()

    def list(self, client: Any) -> list[Any]:
        """Every model the server offers (cached after the first call)."""
        with self._lock:
            if self._listed is None:
                self._listed = list(client.models.list(limit=1000))
                self._info.update({model.id: model for model in self._listed})
            return self._listed

    def info(self, client: Any, model: str) -> Any:
        """The `ModelInfo` of `model`, or None when the server does not know it or has no models endpoint."""
        with self._lock:
            if model in self._info:
                return self._info[model]
        import anthropic

        try:
            info = client.models.retrieve(model)
        except (anthropic.NotFoundError, anthropic.BadRequestError):
            info = None
        with self._lock:
            self._info[model] = info
        return info

    def window(self, client: Any, model: str) -> int:
        """Context window in tokens (a conservative default when unknown)."""
        info = self.info(client, model)
        return int(getattr(info, "max_input_tokens", None) or FALLBACK_WINDOW)


def check_fits(client: Any, params: dict[str, Any], catalog: ModelCatalog) -> None:
    """Raise `ContextOverflow` before sending a request that cannot fit; cheap when far from the limit."""
    estimate = estimate_tokens(params)
    if estimate < NO_CHECK_BELOW:
        return
    window = catalog.window(client, params["model"])
    if estimate < CHECK_FROM * window:
        return
    counted = count_tokens(client, params)
    if counted > window:
        raise ContextOverflow(
            f"This turn needs {counted:,} input tokens but {params['model']}'s context window is {window:,}: "
            "drop turns with `%claude pop`, start over with `%claude reset`, or ask for a summary in a "
            "`%%claude --new` cell and continue from it.")


def count_tokens(client: Any, params: dict[str, Any]) -> int:
    """Exact input tokens of a request, from the API."""
    keys = ("model", "messages", "system", "tools", "thinking", "extra_headers")
    if "betas" in params:       # context management: the count after clearing (the beta endpoint takes the blocks)
        keys += ("betas", "context_management")
        return client.beta.messages.count_tokens(**{key: params[key] for key in keys if key in params}).input_tokens
    return client.messages.count_tokens(**{key: params[key] for key in keys if key in params}).input_tokens
