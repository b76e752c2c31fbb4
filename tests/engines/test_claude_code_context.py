"""The Claude Code engine's context (issue 25): the gauge after each turn (the Agent SDK's `get_context_usage()`),
and one line in the cell when the CLI compacts (its `PreCompact` hook) — the bundled CLI against the local server."""

from __future__ import annotations

from typing import Any

from claude_magic.core.events import Notice
from claude_magic.testing import Reply, text
from claude_magic.views.footer import footer_text


def test_the_gauge_after_a_turn(cc_session: Any, script: Any) -> None:
    script.queue(Reply(text("Hello from the CLI.")))
    result = cc_session.ask("Say hello")
    assert result.status == "complete", result.error
    assert result.context_window > 0 and 0 < result.context_tokens < result.context_window
    assert "context " in footer_text(result)


def test_a_compaction_shows_one_line(cc_session: Any, script: Any) -> None:
    script.queue(Reply(text("First answer.")))
    assert cc_session.ask("Remember the number 7.").status == "complete"
    events: list[Any] = []
    result = cc_session.ask("/compact", emit=events.append)
    lines = [event.text for event in events if isinstance(event, Notice) and event.text.startswith("Context compacted")]
    assert lines == ["Context compacted: Claude Code summarized the conversation as asked; the notebook's history "
                     "keeps every turn."], (result.status, result.error, [getattr(e, "text", "") for e in events])


def test_claude_compact_asks_the_cli(cc_session: Any, script: Any) -> None:
    from claude_magic.commands import run_command

    script.queue(Reply(text("An answer to compact.")))
    assert cc_session.ask("Remember the number 9.").status == "complete"
    said = run_command(cc_session, ["compact"])
    assert said.startswith("Claude Code compacted its session")


def test_max_budget_usd_reaches_the_cli(cc_server: Any, cc_home: str, script: Any) -> None:
    from claude_magic.session import Session

    from .conftest import cc_settings

    session = Session(cc_settings(cc_server, cc_home, max_budget_usd=0.000001))
    try:
        script.queue(Reply(text("An answer past the budget.")), Reply(text("Another one.")))
        first = session.ask("Say something.")
        second = session.ask("And more.") if first.status == "complete" else first
        assert "ClaudeMagic.max_budget_usd" in (second.error or ""), (first.status, first.error, second.error)
    finally:
        session.close()
