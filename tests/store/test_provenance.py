"""Provenance in the panel's saved transcript: each answer's model, engine, usage, hash and replay flag."""

from __future__ import annotations

from claude_magic.core.settings import TurnOptions
from claude_magic.panel.saved import Turn, transcript_bundle
from claude_magic.session import Session
from claude_magic.testing import LocalServer
from claude_magic.views.markdown_export import transcript_markdown
from claude_magic.views.static import output_metadata, static_html
from claude_magic.views.turn_history import turn_records, turn_transcript

from ..helpers import local_settings


def test_the_panels_saved_transcript_carries_each_answers_provenance(claude_server: LocalServer) -> None:
    session = Session(local_settings(claude_server))
    asked = session.ask("cell A", options=TurnOptions(cell_id="A", in_cell=True))
    replayed = session.ask("cell A", options=TurnOptions(cell_id="A", in_cell=True))
    assert replayed.replayed and replayed.request_hash == asked.request_hash
    turns = []
    for record, messages in turn_records(session.conversation())[0:1]:
        transcript = turn_transcript(record, messages)
        turns.append(Turn(record.prompt, static_html(transcript), transcript_markdown(transcript), "cell",
                          output_metadata(transcript)["claude_magic"]))
        assert "replayed: no request" in transcript_markdown(transcript)
    _data, metadata = transcript_bundle("panel", "Chat", turns)
    [answer] = metadata["claude_magic"]["answers"]
    assert answer["replayed"] is True and answer["request_hash"] == asked.request_hash
    assert answer["turn_id"] == asked.turn_id and answer["engine"] == "api" and answer["model"] == asked.model
    assert answer["usage"] == asked.usage.to_dict() and answer["cost"] == asked.cost     # the recorded figures
    assert answer["stop_reason"] == "end_turn" and answer["timestamp"]


def test_a_new_turns_hash_is_over_the_conversation_as_it_was_before_the_turn(claude_server: LocalServer) -> None:
    """The fingerprint is taken while Claude answers, not before the prompt goes out: it must still be the
    request's, even when the prompt merges into a trailing user message (an interrupted turn's tool results)."""
    from copy import deepcopy

    from claude_magic.engines.base import offered_definitions
    from claude_magic.replay.fingerprint import request_fingerprint
    from claude_magic.tools import default_toolbox

    settings = local_settings(claude_server)
    session = Session(settings, toolbox=default_toolbox())
    session.ask("first question")
    conversation = session.conversation()
    conversation.add_user([{"type": "text", "text": "a user message the next prompt merges into"}])
    before = deepcopy(conversation.messages)
    seen: list[str] = []
    result = session.ask("second question", emit=lambda event: seen.append(type(event).__name__))
    assert result.status == "complete" and seen[0] == "TurnStarted"
    assert conversation.messages[len(before) - 1] != before[-1]          # the prompt did merge into it
    tools = offered_definitions(session.toolbox, None, "api")
    expected = request_fingerprint(before, [{"type": "text", "text": "second question"}], settings, "api", tools)
    assert result.request_hash == expected == conversation.turns[-1].request_hash
