"""`%claude compact`, `%claude history` marking the compaction and `--full` showing the summary, the footer's
context gauge and the compaction line in a cell: a real IPython shell against the local server (issue 25)."""

from __future__ import annotations

from typing import Any

import claude_magic
from claude_magic.testing import Reply, text

from .conftest import run


def test_compact_now_then_history_marks_it_and_full_shows_the_summary(shell: Any, claude_server: Any,
                                                                       capsys: Any) -> None:
    claude_server.queue(Reply(text("Mean is 4.2.")), Reply(text("Median is 4.")))
    run(shell, "%%claude\nWhat is the mean of the numbers?")
    run(shell, "%%claude\nAnd the median?")
    out = capsys.readouterr().out
    assert "context " in out and "/ 1M" in out                          # the footer's gauge
    run(shell, "%claude compact --instructions keep every number")
    said = capsys.readouterr().out
    assert said.startswith("Compacted: ") and "-token summary" in said
    assert claude_server.message_requests[-1]["compaction"] == {"type": "summarize",
                                                               "instructions": "keep every number"}
    run(shell, "%claude history")
    table = capsys.readouterr().out
    assert "compacted here" in table and "Median is 4." in table        # marked after turn 2; turns all kept
    run(shell, "%claude history --full")
    assert "Summary made at turn 2" in (full := capsys.readouterr().out) and "keep every number" in full
    claude_server.queue(Reply(text("Mode is 3.")))
    result = run(shell, "%%claude\nAnd the mode?")
    assert result.success
    sent = claude_server.message_requests[-1]["messages"]
    assert [message["role"] for message in sent] == ["assistant", "user"]     # the summary in place of turns 1-2
    assert sent[0]["content"][0]["type"] == "compaction"
    assert len(claude_magic.get_session().conversation().turns) == 3
    assert claude_server.rejections == []


def test_compact_on_a_model_without_compaction_is_one_line(shell: Any, claude_server: Any, capsys: Any) -> None:
    run(shell, "%%claude -m claude-sonnet-4-5\nHello")
    shell.magics_manager.registry["ClaudeMagic"].model = "claude-sonnet-4-5"
    capsys.readouterr()
    result = run(shell, "%claude compact")
    captured = capsys.readouterr()
    assert "does not offer compaction" in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err
    assert not result.success or result.error_in_exec is None


def test_a_compaction_shows_one_line_in_the_cell(shell: Any, claude_server: Any, capsys: Any) -> None:
    run(shell, "%config ClaudeMagic.compact_trigger = 300")
    try:
        run(shell, "%%claude\n" + "Tell me about the data. " * 80 + "Thanks.")
        captured = capsys.readouterr()
        lines = [line for line in (captured.out + captured.err).splitlines() if "Context compacted:" in line]
        assert len(lines) == 1 and "-token summary" in lines[0]
    finally:
        run(shell, "%config ClaudeMagic.compact_trigger = 150000")
