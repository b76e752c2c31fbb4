"""`%%claude --attach FILE --cite` in a real IPython shell: citable documents out, page and passage sources back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

import claude_magic
from claude_magic.testing import LocalServer, Reply, text
from claude_magic.views.static import static_html
from claude_magic.views.turn_history import turn_records, turn_transcript

from ..views.helpers import assert_inert


def page(number: int, cited: str) -> dict[str, Any]:
    return {"type": "page_location", "document_index": 0, "document_title": "report.pdf", "cited_text": cited,
            "start_page_number": number, "end_page_number": number + 2}


def test_attach_with_cite_sends_citable_documents_and_lists_pages(claude_server: LocalServer, ipython_shell: Any,
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\nrevenue grew 12% on page three\n%%EOF")
    (tmp_path / "notes.txt").write_text("Q3 notes: churn fell to 2%.\n<script>alert(1)</script>\n")
    claude_server.queue(Reply(
        text("Revenue grew 12%", citations=[page(3, "revenue grew 12%")]),
        text(" and churn fell.", citations=[{"type": "char_location", "document_index": 1,
                                             "document_title": "notes.txt", "cited_text": "churn fell to 2%",
                                             "start_char_index": 10, "end_char_index": 26}]),
    ))
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    monkeypatch.setattr(magic, "replay", False)
    ipython_shell.run_cell_magic("claude", "--chat cited --attach report.pdf,notes.txt --cite", "What changed?")
    sent = claude_server.message_requests[-1]["messages"][-1]["content"]
    assert sent[0]["type"] == "document" and sent[0]["citations"] == {"enabled": True}
    assert sent[0]["source"]["type"] == "base64"
    assert sent[1] == {"type": "document", "title": "notes.txt", "citations": {"enabled": True},
                       "source": {"type": "text", "media_type": "text/plain",
                                  "data": "Q3 notes: churn fell to 2%.\n<script>alert(1)</script>\n"}}
    conversation = claude_magic.get_session().conversation("cited")
    record, messages = list(turn_records(conversation))[-1]
    html = static_html(turn_transcript(record, messages, "cited"))
    assert "[1]</a></sup>" in html and "[2]</a></sup>" in html
    assert "report.pdf</b> <small>attached document 1 · pp. 3–4</small>" in html
    assert "notes.txt</b> <small>attached document 2</small>" in html
    assert "revenue grew 12%" in html
    assert_inert(html)
    exported = tmp_path / "cited.md"
    ipython_shell.run_line_magic("claude", f"export {exported} cited")
    markdown = exported.read_text()
    assert "Revenue grew 12% [1]" in markdown and "1. report.pdf (attached document 1, pp. 3–4)" in markdown

    claude_server.queue(Reply("plain"))
    ipython_shell.run_cell_magic("claude", "--chat cited --attach notes.txt", "Again, no citations")
    assert claude_server.message_requests[-1]["messages"][-1]["content"][0]["type"] == "text"   # unchanged default
    with pytest.raises(UsageError, match="--cite cites attached documents"):
        ipython_shell.run_cell_magic("claude", "--cite", "no attachment")
