"""Turns read back from a Conversation draw like live ones: blocks in order, tool results, status, footer."""

from __future__ import annotations

from claude_magic.core.conversation import INTERRUPTED_TOOL_RESULT, Conversation, TurnRecord
from claude_magic.core.usage import Usage
from claude_magic.panel.saved import prompt_html, transcript_bundle
from claude_magic.tools.consent import DECLINED
from claude_magic.views.static import static_html
from claude_magic.views.turn_history import record_key, turn_records, turn_transcript


def conversation_with_tools() -> Conversation:
    conversation = Conversation("lab")
    conversation.messages = [
        {"role": "user", "content": [{"type": "text", "text": "Check the data"}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "I should look.", "signature": "sig"},
            {"type": "text", "text": "Looking **now**."},
            {"type": "tool_use", "id": "t1", "name": "run_python", "input": {"code": "len(df)"}},
            {"type": "tool_use", "id": "t2", "name": "delete_all", "input": {}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "result:\n42"}]},
            {"type": "tool_result", "tool_use_id": "t2", "content": DECLINED, "is_error": True},
        ]},
        {"role": "assistant", "content": [{"type": "text", "text": "There are 42 rows."}]},
        {"role": "user", "content": [{"type": "text", "text": "Again"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t3", "name": "run_python",
                                           "input": {"code": "1"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t3",
                                      "content": INTERRUPTED_TOOL_RESULT, "is_error": True}]},
    ]
    conversation.turns = [
        TurnRecord(id="one", prompt="Check the data", model="claude-sonnet-5-5", start=0, end=4,
                   usage=Usage(input_tokens=100, output_tokens=20), cost=0.001, stop_reason="end_turn",
                   status="complete", duration=1.5),
        TurnRecord(id="two", prompt="Again", model="claude-sonnet-5-5", start=4, end=7, status="interrupted",
                   cell_id="cell-7"),
    ]
    return conversation


def test_a_turn_with_thinking_and_tools_draws_every_part_in_order() -> None:
    conversation = conversation_with_tools()
    (record, messages), _second = turn_records(conversation)
    transcript = turn_transcript(record, messages, "lab")
    assert [part.kind for part in transcript.parts] == ["thinking", "text", "tool", "tool", "text"]
    thinking, first, run, denied, last = transcript.parts
    assert thinking.text == "I should look." and first.text == "Looking **now**."
    assert (run.tool_status, run.tool_output) == ("done", "result:\n42")
    assert denied.tool_status == "denied" and last.text == "There are 42 rows."
    html = static_html(transcript)
    assert html.index("I should look.") < html.index("Looking <strong>now</strong>.") < html.index("42 rows")
    assert "end_turn" in html and "1.5 s" in html and "2 steps" in html


def test_an_interrupted_turn_says_so() -> None:
    _first, (record, messages) = turn_records(conversation_with_tools())
    transcript = turn_transcript(record, messages)
    [tool] = transcript.parts
    assert tool.tool_status == "interrupted"
    assert "Interrupted" in static_html(transcript)


def test_the_key_changes_when_a_turn_is_rewritten() -> None:
    conversation = conversation_with_tools()
    before = [record_key(record) for record, _ in turn_records(conversation)]
    conversation.rewind(1)
    after = [record_key(record) for record, _ in turn_records(conversation)]
    assert after == before[:1]


def test_the_saved_transcript_has_html_markdown_and_text() -> None:
    conversation = conversation_with_tools()
    (record, messages), _ = turn_records(conversation)
    from claude_magic.panel.saved import Turn
    from claude_magic.views.inert_markdown import inert_markdown
    from claude_magic.views.markdown_export import transcript_markdown

    transcript = turn_transcript(record, messages)
    turn = Turn(record.prompt, static_html(transcript), transcript_markdown(transcript))
    data, metadata = transcript_bundle("abc", "Chat with Claude", [turn])
    assert 'class="claude-magic-chat-transcript claude-magic-transcript-abc"' in data["text/html"]
    assert "Check the data" in data["text/html"] and "42 rows" in data["text/markdown"]
    assert data["text/markdown"] == inert_markdown(data["text/plain"])          # money is written \$ in Markdown only
    assert "\\$" in data["text/markdown"] and "\\$" not in data["text/plain"]    # (the footer's cost)
    assert metadata == {"claude_magic": {"chat_panel": "abc", "turns": 1, "answers": [{}]}}


def test_prompts_are_shown_verbatim_and_escaped() -> None:
    html = prompt_html("line <one>\n  line *two*", "cell")
    assert "line &lt;one&gt;\n  line *two*" in html and "white-space: pre-wrap" in html
    assert "from a notebook cell" in html
