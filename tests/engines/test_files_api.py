"""Large attachments through the Files API, against the local server's Files API, with the real SDK."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from claude_magic.commands import run_command
from claude_magic.core.events import Event, Notice
from claude_magic.notebook.attachments import attachment_block
from claude_magic.session import Session
from claude_magic.testing import LocalServer

from ..helpers import local_settings

MB = 1024 * 1024


def pdf(tmp_path: Path, size: int, name: str = "report.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(size - 9))
    return path


def prompt_with(path: Path, text: str) -> list[dict[str, Any]]:
    return [attachment_block(str(path), {}), {"type": "text", "text": text}]


def message_bytes(server: LocalServer) -> int:
    return sum(request.size for request in server.requests if request.is_message)


def file_sources(body: dict[str, Any]) -> list[str]:
    return [block["source"].get("file_id") or "inline" for message in body["messages"] if message["role"] == "user"
            and isinstance(message["content"], list) for block in message["content"]
            if isinstance(block, dict) and block.get("type") == "document"]


def converse(session: Session, first: list[dict[str, Any]], turns: int) -> None:
    assert session.ask(first).ok
    for number in range(2, turns + 1):
        result = session.ask(f"turn {number}")
        assert result.ok, result.error


def test_a_large_pdf_is_uploaded_once_for_ten_turns(claude_server: LocalServer, tmp_path: Path) -> None:
    report = pdf(tmp_path, 2 * MB)
    session = Session(local_settings(claude_server, context_window_check=False, context_management="off"))
    converse(session, prompt_with(report, "Summarize the report."), 10)
    assert claude_server.files.uploads == 1
    uploaded = claude_server.files.ids[0]
    assert claude_server.files.content(uploaded) == report.read_bytes()
    assert [file_sources(body) for body in claude_server.message_requests] == [[uploaded]] * 10
    sent = message_bytes(claude_server) + claude_server.files.received_bytes
    assert sent <= 1.1 * report.stat().st_size, sent
    # what is kept is what was attached: base64 in the conversation, exports and the store
    kept = session.conversation().messages[0]["content"][0]
    assert kept["source"]["type"] == "base64"
    listing = run_command(session, ["files"])
    assert "report.pdf" in listing and uploaded in listing and "2.0 MB" in listing

    inline = LocalServer().start()
    try:
        plain = Session(local_settings(inline, context_window_check=False, files_api_above=None,
                                       context_management="off"))
        converse(plain, prompt_with(report, "Summarize the report."), 10)
        assert inline.files.uploads == 0
        assert message_bytes(inline) > 10 * report.stat().st_size          # the base64 goes out every turn
    finally:
        inline.stop()


def test_an_expired_or_deleted_file_is_uploaded_again(claude_server: LocalServer, tmp_path: Path) -> None:
    session = Session(local_settings(claude_server, context_window_check=False))
    assert session.ask(prompt_with(pdf(tmp_path, 2 * MB), "Read it.")).ok
    first = claude_server.files.ids[0]
    claude_server.files.expire(first)                # the API forgot it
    result = session.ask("and now?")
    assert result.ok, result.error
    assert claude_server.files.uploads == 2 and claude_server.files.ids != [first]
    assert file_sources(claude_server.message_requests[-1]) == claude_server.files.ids
    assert [body for body, _message in claude_server.rejections if body] and len(claude_server.rejections) == 1
    assert session.ask("still there?").ok and claude_server.files.uploads == 2


def test_small_attachments_and_text_stay_inline(claude_server: LocalServer, tmp_path: Path) -> None:
    session = Session(local_settings(claude_server, context_window_check=False))
    assert session.ask(prompt_with(pdf(tmp_path, 200_000), "small")).ok
    assert session.ask("x" * (2 * MB)).ok                   # a big prompt is not an attachment: never uploaded
    assert claude_server.files.uploads == 0
    assert file_sources(claude_server.message_requests[0]) == ["inline"]
    assert "uploaded no files" in run_command(session, ["files"])


def test_files_delete_and_reset_clean_up(claude_server: LocalServer, tmp_path: Path) -> None:
    session = Session(local_settings(claude_server, context_window_check=False))
    assert session.ask(prompt_with(pdf(tmp_path, 2 * MB, "a.pdf"), "one")).ok
    assert session.ask(prompt_with(pdf(tmp_path, 2 * MB, "b.pdf"), "two"), options=_named("other")).ok
    assert len(claude_server.files.ids) == 2
    said = run_command(session, ["reset", "other"])
    assert "Deleted 1 uploaded file(s) no longer used" in said
    assert len(claude_server.files.ids) == 1 and [u.filename for u in session.uploads.uploads] == ["a.pdf"]
    assert "Deleted 1 uploaded file(s)." in run_command(session, ["files", "--delete"])
    assert claude_server.files.ids == [] and session.uploads.uploads == []
    assert session.ask("again").ok and claude_server.files.uploads == 3      # sent again when needed


def test_a_refused_upload_sends_the_attachment_inline_and_says_so(claude_server: LocalServer,
                                                                  tmp_path: Path) -> None:
    claude_server.files.max_file_bytes = MB                    # the server refuses the upload (413)
    session = Session(local_settings(claude_server, context_window_check=False))
    events: list[Event] = []
    result = session.ask(prompt_with(pdf(tmp_path, 2 * MB), "Read it."), emit=events.append)
    assert result.ok, result.error
    assert file_sources(claude_server.message_requests[0]) == ["inline"]
    notes = [event.text for event in events if isinstance(event, Notice)]
    assert any("sent inline" in note and "413" in note for note in notes), notes
    assert session.ask("more").ok and sum("sent inline" in e.text for e in events if isinstance(e, Notice)) == 1


def _named(name: str) -> Any:
    from claude_magic.core.settings import TurnOptions

    return TurnOptions(conversation=name)


@pytest.mark.parametrize("above", [None, 10 * MB])
def test_the_threshold(claude_server: LocalServer, tmp_path: Path, above: int | None) -> None:
    session = Session(local_settings(claude_server, context_window_check=False, files_api_above=above))
    assert session.ask(prompt_with(pdf(tmp_path, 2 * MB), "Read it.")).ok
    assert claude_server.files.uploads == 0


def test_an_unchanged_cell_with_a_large_attachment_replays_without_upload_or_request(claude_server: LocalServer,
                                                                                     tmp_path: Path) -> None:
    from claude_magic.core.settings import TurnOptions

    session = Session(local_settings(claude_server, context_window_check=False))
    cell = TurnOptions(cell_id="A", in_cell=True)
    prompt = prompt_with(pdf(tmp_path, 2 * MB), "Read it.")
    assert session.ask(prompt, options=cell).ok
    requests, uploads = len(claude_server.requests), claude_server.files.uploads
    again = session.ask(prompt, options=cell)
    assert again.replayed and len(claude_server.requests) == requests and claude_server.files.uploads == uploads


def test_a_refusal_that_does_not_name_the_file_is_checked_with_the_api(claude_server: LocalServer,
                                                                       tmp_path: Path) -> None:
    from types import SimpleNamespace

    session = Session(local_settings(claude_server, context_window_check=False))
    assert session.ask(prompt_with(pdf(tmp_path, 2 * MB), "Read it.")).ok
    client = session.clients.get(session.settings)
    vague = SimpleNamespace(status_code=400, message="A file in this request is no longer available.")
    assert not session.uploads.recover(client, vague)              # still there: nothing forgotten on a guess
    assert not session.uploads.recover(client, SimpleNamespace(status_code=400, message="max_tokens too big"))
    claude_server.files.expire(claude_server.files.ids[0])
    assert session.uploads.recover(client, vague) and session.uploads.uploads == []


def test_forget_deletes_the_uploads_and_says_so(claude_server: LocalServer, tmp_path: Path) -> None:
    session = Session(local_settings(claude_server, context_window_check=False))
    assert session.ask(prompt_with(pdf(tmp_path, 2 * MB), "Read it.")).ok
    said = run_command(session, ["forget"])
    assert "Deleted 1 uploaded file(s) no longer used (Files API)." in said
    assert claude_server.files.ids == [] and session.uploads.uploads == []


def test_uploads_belong_to_their_credential(claude_server: LocalServer, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    session = Session(local_settings(claude_server, context_window_check=False))
    prompt = prompt_with(pdf(tmp_path, 2 * MB), "Read it.")
    assert session.ask(prompt).ok
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-another-key-for-this-test")
    assert session.ask("Again, with another key.").ok
    assert claude_server.files.uploads == 2                  # the same content, uploaded again for this key
    said = run_command(session, ["files", "--delete"])
    assert "Deleted 1 uploaded file(s)." in said and "uploaded with another credential" in said
    assert len(claude_server.files.ids) == 1 and len(session.uploads.uploads) == 1
