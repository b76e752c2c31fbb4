"""The one-line usage/cost/time summary shown under an answer."""

from __future__ import annotations

from ..core.results import TurnResult

__all__ = ["footer_text", "engine_text", "replayed_text", "context_gauge"]


def footer_text(result: TurnResult) -> str:
    """e.g. `claude-sonnet-5-5 · 1,204 in (1,000 cached) · 312 out · $0.0061 · 2.4 s · end_turn · api: API key …`."""
    if result.replayed:
        return replayed_text(result)
    usage = result.usage
    pieces = [result.model, f"{usage.total_input_tokens:,} in"]
    if usage.cache_read_input_tokens or usage.cache_creation_input_tokens:
        pieces[-1] += (f" ({usage.cache_read_input_tokens:,} cache read, "
                       f"{usage.cache_creation_input_tokens:,} cache write)")
    out = f"{usage.output_tokens:,} out"
    if usage.thinking_tokens:
        out += f" ({usage.thinking_tokens:,} thinking)"
    pieces.append(out)
    web = _web_text(usage.web_search_requests, usage.web_fetch_requests)
    if web:
        pieces.append(web)
    pieces.append(f"${result.cost:.4f}" if result.cost is not None else "cost unknown")
    if result.context_window:
        pieces.append(context_gauge(result.context_tokens, result.context_window))
    pieces.append(f"{result.duration:.1f} s")
    if result.steps > 1:
        pieces.append(f"{result.steps} steps")
    if result.retries:
        pieces.append(f"{result.retries} retr{'y' if result.retries == 1 else 'ies'}")
    pieces.append(result.stop_reason or result.status)
    pieces.append(engine_text(result))
    return " · ".join(pieces)


def context_gauge(used: int, window: int) -> str:
    """How full the context window is after a turn, e.g. `context 45k / 200k (23 %)`."""
    return f"context {_short(used)} / {_short(window)} ({round(100 * used / window)} %)"


def _short(tokens: int) -> str:
    if tokens >= 1_000_000 and tokens % 1_000_000 == 0:
        return f"{tokens // 1_000_000}M"
    return f"{tokens / 1000:.0f}k" if tokens >= 10_000 else f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)


def _web_text(searches: int, fetches: int) -> str:
    """e.g. `2 searches, 1 fetch` (empty when the turn used no web tool)."""
    parts = [f"{count} {word}{'es' if count != 1 else ''}" for count, word in ((searches, "search"),
                                                                             (fetches, "fetch")) if count]
    return ", ".join(parts)


def engine_text(result: TurnResult) -> str:
    """Which engine answered and with which kind of credential, e.g. `api: API key from ANTHROPIC_API_KEY`."""
    return f"{result.engine}: {result.credential}" if result.credential else result.engine


def replayed_text(result: TurnResult) -> str:
    """A replayed turn's footer, the same on every replay: e.g. `claude-sonnet-5-5 · replayed: no request, $0 ·
    recorded 1,204 in · 312 out · $0.0061 · end_turn · api: API key …`."""
    recorded = result.recorded
    pieces = [result.model, "replayed: no request, $0"]
    if recorded is not None:
        cost = f"${recorded.cost:.4f}" if recorded.cost is not None else "cost unknown"
        pieces.append(f"recorded {recorded.usage.total_input_tokens:,} in · {recorded.usage.output_tokens:,} out · "
                      f"{cost}")
    pieces.append(result.stop_reason or result.status)
    pieces.append(engine_text(result))
    return " · ".join(pieces)
