"""Web search / fetch from a fixture corpus and the Files API on the local server, through the real SDK."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from claude_magic.testing import LocalServer, Reply, cite, text, web_fetch, web_search

MODEL = "claude-sonnet-5-5"
BETA = "files-api-2025-04-14"
SEARCH = {"type": "web_search_20260318", "name": "web_search", "max_uses": 2}
FETCH = {"type": "web_fetch_20260318", "name": "web_fetch", "citations": {"enabled": True}}
ASK = [{"role": "user", "content": "What does RSRP mean? See https://docs.example.org/rsrp"}]


@pytest.fixture
def client(claude_server: LocalServer) -> anthropic.Anthropic:
    claude_server.web.add("https://docs.example.org/rsrp", "RSRP explained",
                          "RSRP is the reference signal received power, in dBm.", page_age="2 days ago")
    claude_server.web.add("https://blocked.example.com/rsrp", "RSRP forum", "RSRP power talk.")
    return anthropic.Anthropic(base_url=claude_server.base_url, api_key="test-key", max_retries=0)


def streamed(client: anthropic.Anthropic, **params: Any) -> anthropic.types.Message:
    params = {"model": MODEL, "max_tokens": 1000, "messages": ASK, **params}
    with client.messages.stream(**params) as events:
        kinds = [event.type for event in events]
        message = events.get_final_message()
    assert "citation" in kinds or not any(getattr(b, "citations", None) for b in message.content)
    return message


def test_search_fetch_and_citations_come_back_as_the_api_sends_them(claude_server: LocalServer,
                                                                    client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(
        web_search("rsrp meaning"), web_fetch("https://docs.example.org/rsrp"),
        text("RSRP is a received power.", citations=[cite("https://docs.example.org/rsrp", "RSRP is the reference")]),
    ))
    message = streamed(client, tools=[{**SEARCH, "blocked_domains": ["blocked.example.com"]}, FETCH])
    kinds = [block.type for block in message.content]
    assert kinds == ["server_tool_use", "web_search_tool_result", "server_tool_use", "web_fetch_tool_result", "text"]
    assert message.content[0].input == {"query": "rsrp meaning"}
    results = message.content[1].content
    assert [r.url for r in results] == ["https://docs.example.org/rsrp"]     # the blocked domain filtered out
    assert results[0].title == "RSRP explained" and results[0].page_age == "2 days ago"
    fetched = message.content[3].content
    assert fetched.type == "web_fetch_result" and fetched.content.source.data.startswith("RSRP is the reference")
    assert fetched.content.citations.enabled
    citation = message.content[4].citations[0]
    assert citation.type == "web_search_result_location" and citation.title == "RSRP explained"
    assert citation.encrypted_index
    assert message.usage.server_tool_use.web_search_requests == 1
    assert message.usage.server_tool_use.web_fetch_requests == 1

    # the whole turn goes back unchanged: accepted; an altered encrypted_content is refused like the API does
    history = [*ASK, {"role": "assistant", "content": [b.to_dict() for b in message.content]},
               {"role": "user", "content": "thanks"}]
    claude_server.queue(Reply("You're welcome."))
    assert streamed(client, tools=[SEARCH, FETCH], messages=history).content[0].text == "You're welcome."
    history[1]["content"][1]["content"][0]["encrypted_content"] = "enc_local_forged"
    with pytest.raises(anthropic.BadRequestError, match="encrypted_content"):
        streamed(client, tools=[SEARCH, FETCH], messages=history)


def test_tool_rules_give_the_api_error_codes(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(
        web_search("rsrp"), web_search("rsrp again"), web_search("third"),       # max_uses 2
        web_fetch("https://sub.example.com/x"),                                   # allowed, never seen
        web_fetch("https://docs.example.org/rsrp"),                               # outside allowed domains
        "done",
    ))
    message = streamed(client, tools=[SEARCH, {**FETCH, "allowed_domains": ["example.com"]}])
    errors = [getattr(b.content, "error_code", None) for b in message.content if b.type.endswith("_tool_result")]
    assert errors == [None, None, "max_uses_exceeded", "url_not_in_prior_context", "url_not_allowed"]
    assert message.usage.server_tool_use.web_search_requests == 2       # errors are not billed
    assert message.usage.server_tool_use.web_fetch_requests == 0


def test_a_call_of_a_tool_not_offered_is_the_scripts_error(claude_server: LocalServer,
                                                           client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(web_search("rsrp"), "x"))
    with pytest.raises(anthropic.InternalServerError):
        streamed(client)
    assert "did not offer it" in str(claude_server.errors[0])


def test_pause_turn_and_its_continuation(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    claude_server.queue(Reply(web_search("rsrp"), stop_reason="pause_turn"), Reply("RSRP is power."))
    first = streamed(client, tools=[SEARCH])
    assert first.stop_reason == "pause_turn"
    history = [*ASK, {"role": "assistant", "content": [b.to_dict() for b in first.content]}]
    second = streamed(client, tools=[SEARCH], messages=history)
    assert second.stop_reason == "end_turn"
    assert claude_server.rejections == []


def test_files_api_upload_list_retrieve_delete(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    files = client.beta.files
    with pytest.raises(anthropic.BadRequestError, match="beta"):
        files.list()
    uploaded = files.upload(file=("report.pdf", b"%PDF-1.4 tiny", "application/pdf"), betas=[BETA])
    assert uploaded.id.startswith("file_") and uploaded.size_bytes == 13 and uploaded.mime_type == "application/pdf"
    assert uploaded.filename == "report.pdf" and uploaded.downloadable is False
    assert [f.id for f in files.list(betas=[BETA])] == [uploaded.id]
    assert files.retrieve_metadata(uploaded.id, betas=[BETA]).filename == "report.pdf"

    document = {"type": "document", "source": {"type": "file", "file_id": uploaded.id}}
    refer = [{"role": "user", "content": [document, {"type": "text", "text": "Summarize"}]}]
    claude_server.queue(Reply("A tiny report."))
    answer = client.messages.create(model=MODEL, max_tokens=100, messages=refer, extra_headers={"anthropic-beta": BETA})
    assert answer.content[0].text == "A tiny report."
    with pytest.raises(anthropic.BadRequestError, match="anthropic-beta"):
        client.messages.create(model=MODEL, max_tokens=100, messages=refer)

    assert files.delete(uploaded.id, betas=[BETA]).type == "file_deleted"
    with pytest.raises(anthropic.NotFoundError):
        files.retrieve_metadata(uploaded.id, betas=[BETA])
    with pytest.raises(anthropic.NotFoundError):
        files.delete(uploaded.id, betas=[BETA])
    with pytest.raises(anthropic.BadRequestError, match="File not found"):
        client.messages.create(model=MODEL, max_tokens=100, messages=refer, extra_headers={"anthropic-beta": BETA})

    claude_server.files.max_file_bytes = 1000
    with pytest.raises(anthropic.APIStatusError) as too_big:
        files.upload(file=("big.pdf", b"x" * 5000, "application/pdf"), betas=[BETA])
    assert too_big.value.status_code == 413
    assert claude_server.files.uploads == 1


def test_files_list_pages(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    made = [client.beta.files.upload(file=(f"n{i}.txt", b"hello", "text/plain"), betas=[BETA]).id for i in range(5)]
    page = client.beta.files.list(limit=2, betas=[BETA])
    assert [f.id for f in page.data] == made[:2] and page.next_page
    everything = [f.id for f in client.beta.files.list(limit=2, betas=[BETA])]   # iterating pages on
    assert everything == made


def test_a_fetched_pdf_comes_back_as_a_base64_document(claude_server: LocalServer, client: anthropic.Anthropic) -> None:
    import base64

    claude_server.web.add("https://docs.example.org/spec.pdf", "Spec", "%PDF-1.4 spec", media_type="application/pdf")
    claude_server.queue(Reply(web_fetch("https://docs.example.org/spec.pdf"), "ok"))
    ask = [{"role": "user", "content": "Read https://docs.example.org/spec.pdf"}]
    message = streamed(client, tools=[FETCH], messages=ask)
    source = message.content[1].content.content.source
    assert source.type == "base64" and base64.b64decode(source.data) == b"%PDF-1.4 spec"
