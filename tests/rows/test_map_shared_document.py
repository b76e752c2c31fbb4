"""`claude_magic.map(..., attach=FILE)`: one document uploaded once, referred to by id in every row's request."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

import claude_magic
from claude_magic.testing import LocalServer

BETA = "files-api-2025-04-14"


def test_a_shared_document_is_uploaded_once_for_every_row_live_and_batch(shell: Any, claude_server: LocalServer,
                                                                          tmp_path: Path) -> None:
    report = tmp_path / "policy.pdf"
    report.write_bytes(b"%PDF-1.4\n" + os.urandom(50_000))
    data = pd.DataFrame({"text": [f"claim {i}" for i in range(6)]})
    magic = shell.magics_manager.registry["ClaudeMagic"]
    magic.server_tools = ["web_search"]                        # the session's web setting is not for rows
    try:
        live = claude_magic.map("Is this covered by the policy? {text}", data, mode="live", progress=False,
                                attach=report)
    finally:
        magic.server_tools = []
    assert (live.frame["status"] == "ok").all()
    assert claude_server.files.uploads == 1
    file_id = claude_server.files.ids[0]
    rows = [request for request in claude_server.requests if request.is_message]
    assert len(rows) == 6
    for request in rows:
        first = request.body["messages"][0]["content"][0]
        assert first == {"type": "document", "title": "policy.pdf", "source": {"type": "file", "file_id": file_id}}
        assert BETA in request.headers.get("anthropic-beta", "")
        assert "tools" not in request.body
    assert claude_server.rejections == []

    batch = claude_magic.map("Summarize the policy for {text}", data, mode="batch", progress=False, attach=report)
    assert (batch.frame["status"] == "ok").all()
    assert claude_server.files.uploads == 1                    # the same content, the same credential: no new upload
    created = [r for r in claude_server.requests if r.method == "POST" and r.path.rstrip("/").endswith("/batches")]
    assert BETA in created[-1].headers.get("anthropic-beta", "")
    params = [item["params"] for item in created[-1].body["requests"]]
    assert all("extra_headers" not in item for item in params)
    assert all(item["messages"][0]["content"][0]["source"] == {"type": "file", "file_id": file_id} for item in params)
